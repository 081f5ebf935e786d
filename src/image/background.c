/*
 * background.c - the median frame of a clip (background.h).
 *
 * Counting, not sorting: for a block of bytes, one 256-bin histogram per
 * byte (uint8 counts: m <= 255), filled frame by frame (each frame read
 * sequentially), then each byte's median found by walking its histogram.
 * O(m + 256) per byte.
 */
#include <stdlib.h>
#include <string.h>
#include "background.h"

#define BLOCK 1024 /* bytes per pass: 256 KiB of counts, in L2 */

uint64_t vbp_bg_stride(uint64_t n)
{
    uint64_t s = 1;
    while ((n + s - 1) / s > VBP_BG_FRAMES)
        s *= 2;
    return s;
}

int vbp_bg_median(const uint8_t *const *frames, uint32_t m, size_t bytes, uint8_t *out)
{
    uint8_t(*cnt)[256] = malloc(BLOCK * sizeof *cnt);
    if (!cnt)
        return -1;
    const uint32_t rank = (m - 1) / 2; /* the median is the value with rank values below it */
    for (size_t i0 = 0; i0 < bytes; i0 += BLOCK) {
        const size_t nb = bytes - i0 < BLOCK ? bytes - i0 : BLOCK;
        memset(cnt, 0, nb * sizeof *cnt);
        for (uint32_t j = 0; j < m; j++) {
            const uint8_t *f = frames[j] + i0;
            for (size_t i = 0; i < nb; i++)
                cnt[i][f[i]]++;
        }
        for (size_t i = 0; i < nb; i++) {
            uint32_t below = 0, v = 0;
            while (below + cnt[i][v] <= rank)
                below += cnt[i][v++];
            out[i0 + i] = (uint8_t)v;
        }
    }
    free(cnt);
    return 0;
}

int vbp_bg_sampler_init(vbp_bg_sampler *b, size_t bytes)
{
    memset(b, 0, sizeof *b);
    b->bytes = bytes;
    b->s = 1;
    b->keep = malloc((VBP_BG_FRAMES + 1) * bytes);
    return b->keep ? 0 : -1;
}

uint8_t *vbp_bg_sampler_slot(const vbp_bg_sampler *b)
{
    return b->keep + (size_t)b->m * b->bytes;
}

void vbp_bg_sampler_push(vbp_bg_sampler *b)
{
    /* slot j holds frame j * s; a frame off the stride is overwritten by the next */
    if (b->n++ % b->s == 0 && ++b->m > VBP_BG_FRAMES) { /* keep the multiples of 2s */
        for (uint32_t j = 1; 2 * j < b->m; j++)
            memcpy(b->keep + j * b->bytes, b->keep + 2 * j * b->bytes, b->bytes);
        b->m = (b->m + 1) / 2;
        b->s *= 2;
    }
}

int vbp_bg_sampler_median(const vbp_bg_sampler *b, uint8_t *out)
{
    const uint8_t *frames[VBP_BG_FRAMES];
    for (uint32_t j = 0; j < b->m; j++)
        frames[j] = b->keep + j * b->bytes;
    return vbp_bg_median(frames, b->m, b->bytes, out);
}

void vbp_bg_sampler_free(vbp_bg_sampler *b)
{
    free(b->keep);
    b->keep = NULL;
}

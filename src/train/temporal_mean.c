/*
 * temporal_mean.c - each frame's heatmap averaged over the windows that hold it.
 *
 * A window of seq frames gives a heatmap for each of them, and the stride-1
 * windows of a stream (a clip of a pack, a video) give frame f up to seq of
 * them: from the windows that start at f-seq+1 .. f.  Their mean (the
 * temporal ensemble of TrackNetV3) is what eval, predict and track detect
 * on (docs/model.md measures it against the centre window's heatmap alone).
 *
 * Frame f sums into slot f % seq of a ring of seq planes; the window that
 * starts at f is the last that holds it, so adding it makes frame f final,
 * and the slot is free for frame f + seq, the last frame of the next window.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "train_internal.h"

int vbp_tmean_init(vbp_tmean *m, uint32_t seq, size_t plane, vbp_error *err)
{
    memset(m, 0, sizeof *m);
    if (!seq || !plane)
        return vbp_fail(err, VBP_E_ARG, "temporal mean: seq %u, plane %zu", seq, plane);
    m->sum = malloc((size_t)seq * plane * sizeof *m->sum);
    if (!m->sum)
        return vbp_fail(err, VBP_E_NOMEM, "temporal mean: out of memory");
    m->seq = seq, m->plane = plane;
    return VBP_OK;
}

void vbp_tmean_free(vbp_tmean *m)
{
    free(m->sum);
    memset(m, 0, sizeof *m);
}

void vbp_tmean_reset(vbp_tmean *m)
{
    m->next = 0;
}

/* Divide frame f's slot by its count of windows and return it. */
static const float *finish_frame(vbp_tmean *m, uint64_t f, uint64_t windows)
{
    float *p = m->sum + (f % m->seq) * m->plane;
    if (windows > 1) {
        const float inv = 1.0f / (float)windows;
        for (size_t i = 0; i < m->plane; i++)
            p[i] *= inv;
    }
    return p;
}

const float *vbp_tmean_add(vbp_tmean *m, const float *heat)
{
    const uint64_t s = m->next++;
    const uint32_t seq = m->seq;
    for (uint32_t j = 0; j < seq; j++) {
        float *p = m->sum + ((s + j) % seq) * m->plane;
        const float *h = heat + (size_t)j * m->plane;
        if (s == 0 || j == seq - 1) /* the first window that holds frame s + j */
            memcpy(p, h, m->plane * sizeof *p);
        else
            for (size_t i = 0; i < m->plane; i++)
                p[i] += h[i];
    }
    return finish_frame(m, s, s + 1 < seq ? s + 1 : seq);
}

const float *vbp_tmean_tail(vbp_tmean *m, uint32_t j)
{
    const uint64_t last = m->next - 1, f = last + j; /* windows max(0, f-seq+1) .. last */
    const uint64_t windows = last + 1 < m->seq - j ? last + 1 : m->seq - j;
    return finish_frame(m, f, windows);
}

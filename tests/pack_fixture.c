/* pack_fixture.c - see pack_fixture.h. */
#include <stdlib.h>
#include <string.h>
#include "pack_fixture.h"

const fix_clip fix_clips[FIX_CLIPS] = {
    {"rally1", "matchA", VBP_SPLIT_TRAIN, 5},
    {"rally2", "matchA", VBP_SPLIT_VAL, 3},
    {"serve", "", VBP_SPLIT_TEST, 4},
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Frame 0 of each clip is pure noise (lz4 cannot shrink it); the others are smooth plus noise. */
void fix_frame(uint32_t clip, uint32_t i, uint32_t channels, uint8_t *dst)
{
    size_t n = (size_t)channels * FIX_W * FIX_H;
    for (size_t k = 0; k < n; k++) {
        uint64_t r = mix(((uint64_t)clip << 48) ^ ((uint64_t)i << 32) ^ k);
        dst[k] = i == 0 ? (uint8_t)r : (uint8_t)((k / 16 + clip * 7 + i) + (r % 8 == 0 ? r >> 8 : 0));
    }
}

void fix_heatmap(uint32_t clip, uint32_t i, uint8_t *dst)
{
    memset(dst, 0, FIX_W * FIX_H);
    vbp_label l = fix_label(clip, i);
    if (l.visibility != 1)
        return;
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++)
            dst[((int)l.y + dy) * (int)FIX_W + (int)l.x + dx] = (uint8_t)(255 - 40 * (abs(dx) + abs(dy)));
}

vbp_label fix_label(uint32_t clip, uint32_t i)
{
    switch ((clip + i) % 3) {
    case 0: return (vbp_label){1, 5.5f + (float)(i * 3 % 50), 4.25f + (float)(clip * 9 % 38)};
    case 1: return (vbp_label){0, -1.0f, -1.0f};
    default: return (vbp_label){VBP_NO_LABEL, -1.0f, -1.0f};
    }
}

vbp_clip_source fix_source(uint32_t clip)
{
    switch (clip) {
    case 0: return (vbp_clip_source){1280, 720, 30000, 1001};
    case 2: return (vbp_clip_source){640, 360, 0, 0};
    default: return (vbp_clip_source){0, 0, 0, 0};
    }
}

static int write_fixture(const char *path, vbp_codec codec, uint32_t channels, int overwrite,
                         int sourced, vbp_error *err)
{
    vbp_writer_opts o = {{FIX_H, FIX_W, channels, 1}, codec, overwrite};
    vbp_writer *w;
    int rc = vbp_writer_open(path, &o, &w, err);
    if (rc)
        return rc;
    uint8_t *buf = malloc((size_t)channels * FIX_W * FIX_H);
    for (uint32_t c = 0; c < FIX_CLIPS && !rc; c++) {
        rc = vbp_writer_begin_clip(w, fix_clips[c].name, fix_clips[c].group, fix_clips[c].split, err);
        vbp_clip_source src = fix_source(c);
        if (!rc && sourced && src.width)
            rc = vbp_writer_set_source(w, &src, err);
        for (uint32_t i = 0; i < fix_clips[c].frames && !rc; i++) {
            fix_frame(c, i, channels, buf);
            vbp_label l = fix_label(c, i);
            rc = vbp_writer_add_frame(w, buf, l.visibility == VBP_NO_LABEL ? NULL : &l, err);
        }
        for (uint32_t i = 0; i < fix_clips[c].frames && !rc; i++) {
            fix_heatmap(c, i, buf);
            rc = vbp_writer_add_heatmap(w, buf, err);
        }
        if (!rc)
            rc = vbp_writer_end_clip(w, err);
    }
    free(buf);
    if (rc) {
        vbp_writer_abort(w);
        return rc;
    }
    return vbp_writer_finish(w, err);
}

int fix_write(const char *path, vbp_codec codec, uint32_t channels, int overwrite, vbp_error *err)
{
    return write_fixture(path, codec, channels, overwrite, 0, err);
}

int fix_write_sourced(const char *path, vbp_codec codec, uint32_t channels, int overwrite,
                      vbp_error *err)
{
    return write_fixture(path, codec, channels, overwrite, 1, err);
}

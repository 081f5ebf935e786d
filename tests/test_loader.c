/* test_loader.c - windows, orders, batch values and flips, modes, codecs, threads, resume,
 * the memory limit and locality order, the memory report, two processes on one pack. */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>
#include "fixture.h"
#include "vbp_loader.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0 /* ASan replaces mlock with a no-op that succeeds */
#endif

#define W 24u
#define H 6u


/* Pixel of plane c of frame i of clip k: asymmetric in x so a flip shows,
 * with repeats (pairs of equal rows) so that lz4 packs really compress. */
static uint8_t frame_px(uint32_t k, uint32_t i, uint32_t c, uint32_t y, uint32_t x)
{
    return (uint8_t)(k * 53 + i * 29 + c * 71 + (y / 2) * 7 + (x / 4) * 13 + x / 5);
}

/* A heatmap is zero but for a small asymmetric blob that moves with the frame. */
static uint8_t heat_px(uint32_t k, uint32_t i, uint32_t y, uint32_t x)
{
    uint32_t x0 = (i * 3 + k) % 20;
    return x >= x0 && x < x0 + 4 && y >= 2 && y < 4 ? (uint8_t)(k * 17 + i * 31 + x * 9 + y) | 1 : 0;
}

/* Records of a pack stored lz4-compressed. */
static uint64_t lz4_records(const char *path)
{
    vbp_pack *p;
    vbp_error err;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    uint64_t n = 0;
    for (uint64_t f = 0; f < vbp_pack_get_info(p)->frame_count; f++)
        for (int k = 0; k < 2; k++) {
            vbp_record r;
            assert_int_equal(vbp_pack_record(p, f, (vbp_record_kind)k, &r), VBP_OK);
            n += r.codec == VBP_CODEC_LZ4;
        }
    vbp_pack_close(p);
    return n;
}

/* Write a pack of clips with the given frame counts and splits at fx_dir/name. */
static const char *write_pack(const char *name, vbp_codec codec, uint32_t channels, size_t nclips,
                              const uint32_t *frames, const vbp_split *splits)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fx_dir, name);
    vbp_writer_opts o = { .geometry = { H, W, channels, 1 }, .codec = codec, .overwrite = 1 };
    vbp_writer *w;
    vbp_error err;
    assert_int_equal(vbp_writer_open(path, &o, &w, &err), VBP_OK);
    uint8_t buf[3 * W * H];
    for (uint32_t k = 0; k < nclips; k++) {
        char cname[32];
        snprintf(cname, sizeof cname, "clip%u", k);
        assert_int_equal(vbp_writer_begin_clip(w, cname, "", splits ? splits[k] : VBP_SPLIT_TRAIN,
                                               &err), VBP_OK);
        for (uint32_t i = 0; i < frames[k]; i++) {
            for (uint32_t c = 0; c < channels; c++)
                for (uint32_t y = 0; y < H; y++)
                    for (uint32_t x = 0; x < W; x++)
                        buf[(c * H + y) * W + x] = frame_px(k, i, c, y, x);
            assert_int_equal(vbp_writer_add_frame(w, buf, NULL, &err), VBP_OK);
        }
        for (uint32_t i = 0; i < frames[k]; i++) {
            for (uint32_t y = 0; y < H; y++)
                for (uint32_t x = 0; x < W; x++)
                    buf[y * W + x] = heat_px(k, i, y, x);
            assert_int_equal(vbp_writer_add_heatmap(w, buf, &err), VBP_OK);
        }
        assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    }
    assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
    return path;
}

static vbp_loader *open_ok(const char *path, const vbp_loader_opts *o)
{
    vbp_loader *ld;
    vbp_error err;
    int rc = vbp_loader_open_path(path, o, &ld, &err);
    if (rc)
        fprintf(stderr, "open: %s\n", vbp_error_message(&err));
    assert_int_equal(rc, VBP_OK);
    return ld;
}

static const uint32_t three_clips[] = { 5, 2, 7, 4 };
static const vbp_split three_splits[] = { VBP_SPLIT_TRAIN, VBP_SPLIT_TRAIN, VBP_SPLIT_TRAIN,
                                          VBP_SPLIT_VAL };

/* Expect samples of ld to be exactly the (clip, clip_frame) pairs listed. */
static void expect_windows(vbp_loader *ld, size_t n, const uint32_t (*want)[2])
{
    assert_int_equal(vbp_loader_num_samples(ld), n);
    for (size_t s = 0; s < n; s++) {
        vbp_sample smp;
        assert_int_equal(vbp_loader_sample(ld, s, &smp), VBP_OK);
        assert_int_equal(smp.clip, want[s][0]);
        assert_int_equal(smp.clip_frame, want[s][1]);
        const vbp_clip *c = vbp_pack_clip(vbp_loader_pack(ld), smp.clip);
        assert_int_equal(smp.first_frame, c->first_frame + smp.clip_frame);
    }
    vbp_sample smp;
    assert_int_equal(vbp_loader_sample(ld, n, &smp), VBP_E_ARG);
}

static void windows_respect_clips_strides_splits(void **state)
{
    (void)state;
    const char *p = write_pack("win.vbp", VBP_CODEC_RAW, 1, 4, three_clips, three_splits);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);

    vbp_loader *ld = open_ok(p, &o); /* seq 3, stride 1, train: clip 1 (2 frames) has none */
    static const uint32_t w3[][2] = { {0,0},{0,1},{0,2},{2,0},{2,1},{2,2},{2,3},{2,4} };
    expect_windows(ld, 8, w3);
    vbp_loader_close(ld);

    o.stride = 2;
    ld = open_ok(p, &o);
    static const uint32_t w3s2[][2] = { {0,0},{0,2},{2,0},{2,2},{2,4} };
    expect_windows(ld, 5, w3s2);
    vbp_loader_close(ld);

    o.stride = 1;
    o.seq = 1;
    o.splits = VBP_SPLIT_BIT(VBP_SPLIT_VAL);
    ld = open_ok(p, &o);
    static const uint32_t w1v[][2] = { {3,0},{3,1},{3,2},{3,3} };
    expect_windows(ld, 4, w1v);
    vbp_loader_close(ld);

    o.splits |= VBP_SPLIT_BIT(VBP_SPLIT_TRAIN);
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_num_samples(ld), 18);
    vbp_loader_close(ld);

    /* seq 9: no train clip is long enough; the message says so. */
    o.seq = 9;
    o.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN);
    vbp_error err;
    vbp_loader *none;
    assert_int_equal(vbp_loader_open_path(p, &o, &none, &err), VBP_E_GEOMETRY);
    assert_null(none);
    assert_non_null(strstr(err.detail, "longest has 7"));

    static const uint32_t long_clips[] = { 9, 4, 12 };
    const char *p9 = write_pack("win9.vbp", VBP_CODEC_RAW, 1, 3, long_clips, NULL);
    ld = open_ok(p9, &o);
    static const uint32_t w9[][2] = { {0,0},{2,0},{2,1},{2,2},{2,3} };
    expect_windows(ld, 5, w9);
    vbp_loader_close(ld);
}

static void geometry_mismatch_is_one_clear_line(void **state)
{
    (void)state;
    const char *p = write_pack("gray.vbp", VBP_CODEC_RAW, 1, 4, three_clips, three_splits);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.channels = 3;
    vbp_loader *ld;
    vbp_error err;
    assert_int_equal(vbp_loader_open_path(p, &o, &ld, &err), VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "pack frames are gray (1 channel), the loader asks for 3"));
    assert_non_null(strstr(err.detail, p));
    o.channels = 1;
    o.width = 512;
    assert_int_equal(vbp_loader_open_path(p, &o, &ld, &err), VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "24x6"));
    o.width = 0;
    o.seq = 0;
    assert_int_equal(vbp_loader_open_path(p, &o, &ld, &err), VBP_E_ARG);
}

static int is_permutation(const uint64_t *a, uint64_t n)
{
    uint8_t *seen = calloc(n, 1);
    int ok = 1;
    for (uint64_t i = 0; i < n && ok; i++) {
        ok = a[i] < n && !seen[a[i]];
        if (ok)
            seen[a[i]] = 1;
    }
    free(seen);
    return ok;
}

static void orders_are_reproducible_permutations(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 60, 45, 5 }; /* 104 windows: 13 blocks of 8 */
    const char *p = write_pack("ord.vbp", VBP_CODEC_RAW, 1, 3, clips, NULL);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.seed = 7;
    o.order = VBP_ORDER_SHUFFLE;
    vbp_loader *ld = open_ok(p, &o);
    uint64_t n = vbp_loader_num_samples(ld);
    assert_int_equal(n, 58 + 43 + 3);
    uint64_t *a = malloc(n * 8), *b = malloc(n * 8), *c = malloc(n * 8);
    vbp_error err;
    assert_int_equal(vbp_loader_epoch_order(ld, 3, a, &err), VBP_OK);
    assert_int_equal(vbp_loader_epoch_order(ld, 3, b, &err), VBP_OK);
    assert_true(is_permutation(a, n));
    assert_memory_equal(a, b, n * 8);
    assert_int_equal(vbp_loader_epoch_order(ld, 4, c, &err), VBP_OK);
    assert_true(is_permutation(c, n));
    assert_memory_not_equal(a, c, n * 8);
    vbp_loader_close(ld);

    o.seed = 8; /* another seed, another order; a reopened loader, the same */
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_epoch_order(ld, 3, c, &err), VBP_OK);
    assert_memory_not_equal(a, c, n * 8);
    vbp_loader_close(ld);
    o.seed = 7;
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_epoch_order(ld, 3, c, &err), VBP_OK);
    assert_memory_equal(a, c, n * 8);
    vbp_loader_close(ld);

    o.order = VBP_ORDER_SEQUENTIAL;
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_epoch_order(ld, 5, a, &err), VBP_OK);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(a[i], i);
    vbp_loader_close(ld);

    /* Locality: blocks of 8 windows, 3 open at a time; every group of 24
     * positions draws from at most 3 blocks. */
    o.order = VBP_ORDER_LOCALITY;
    o.block_samples = 8;
    o.open_blocks = 3;
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_get_shape(ld)->order, VBP_ORDER_LOCALITY);
    for (uint64_t e = 0; e < 3; e++) {
        assert_int_equal(vbp_loader_epoch_order(ld, e, a, &err), VBP_OK);
        assert_int_equal(vbp_loader_epoch_order(ld, e, b, &err), VBP_OK);
        assert_memory_equal(a, b, n * 8);
        assert_true(is_permutation(a, n));
        int moved = 0;
        for (uint64_t g = 0; g < n; g += 24) {
            uint64_t blocks[24];
            size_t nb = 0;
            for (uint64_t i = g; i < n && i < g + 24; i++) {
                size_t j = 0;
                while (j < nb && blocks[j] != a[i] / 8)
                    j++;
                if (j == nb)
                    blocks[nb++] = a[i] / 8;
                moved |= a[i] != i;
            }
            assert_true(nb <= 3);
        }
        assert_true(moved);
    }
    vbp_loader_close(ld);
    free(a);
    free(b);
    free(c);
}

/* Check one assembled sample against the generator: values v/255, mirrored when flip. */
static void expect_sample(const vbp_loader *ld, uint64_t sample, int flip, const float *x,
                          const float *y)
{
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    vbp_sample s;
    assert_int_equal(vbp_loader_sample(ld, sample, &s), VBP_OK);
    for (uint32_t t = 0; t < sh->seq; t++)
        for (uint32_t yy = 0; yy < H; yy++)
            for (uint32_t xx = 0; xx < W; xx++) {
                uint32_t sx = flip ? W - 1 - xx : xx;
                uint32_t f = (uint32_t)s.clip_frame + t;
                for (uint32_t c = 0; c < sh->channels; c++) {
                    float want = (float)frame_px((uint32_t)s.clip, f, c, yy, sx) / 255.0f;
                    assert_true(x[((t * sh->channels + c) * H + yy) * W + xx] == want);
                }
                float want = (float)heat_px((uint32_t)s.clip, f, yy, sx) / 255.0f;
                assert_true(y[(t * H + yy) * W + xx] == want);
            }
}

static void batch_values_are_pixels_over_255_and_flip_mirrors_both(void **state)
{
    (void)state;
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        const char *p = write_pack("val.vbp", ch == 3 ? VBP_CODEC_LZ4 : VBP_CODEC_RAW, ch, 4,
                                   three_clips, three_splits);
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.channels = ch;
        vbp_loader *ld = open_ok(p, &o);
        const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
        assert_int_equal(sh->x_floats, 3 * ch * W * H);
        assert_int_equal(sh->y_floats, 3 * W * H);
        const uint64_t ids[] = { 0, 4, 2, 7 };
        const uint8_t flips[] = { 0, 1, 0, 1 };
        float *x = malloc(4 * sh->x_floats * sizeof(float));
        float *y = malloc(4 * sh->y_floats * sizeof(float));
        vbp_error err;
        assert_int_equal(vbp_loader_assemble(ld, ids, flips, 4, x, y, &err), VBP_OK);
        for (int i = 0; i < 4; i++)
            expect_sample(ld, ids[i], flips[i], x + i * sh->x_floats, y + i * sh->y_floats);
        /* The flipped copy of a sample is the mirror of its unflipped copy. */
        const uint64_t same[] = { 4, 4 };
        const uint8_t both[] = { 0, 1 };
        assert_int_equal(vbp_loader_assemble(ld, same, both, 2, x, y, &err), VBP_OK);
        for (size_t r = 0; r < sh->x_floats / W; r++)
            for (uint32_t c = 0; c < W; c++)
                assert_true(x[r * W + c] == x[sh->x_floats + r * W + (W - 1 - c)]);
        for (size_t r = 0; r < sh->y_floats / W; r++)
            for (uint32_t c = 0; c < W; c++)
                assert_true(y[r * W + c] == y[sh->y_floats + r * W + (W - 1 - c)]);
        const uint64_t bad[] = { 99 };
        assert_int_equal(vbp_loader_assemble(ld, bad, NULL, 1, x, y, &err), VBP_E_ARG);
        free(x);
        free(y);
        vbp_loader_close(ld);
    }
}

static int cmp_u8(const void *a, const void *b)
{
    return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}

/* With opts.background, x ends with the clip's median frame (of frames 0, s, 2s, ..., s the
 * smallest power of two leaving <= 128; the lower median), flipped and shifted with the
 * window; the window's frames and heatmaps are unchanged. */
static void background_is_the_clip_median_moved_with_the_window(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 5, 300, 4 }; /* 300 frames: every 4th, 75 of them */
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        const char *p = write_pack("bg.vbp", ch == 3 ? VBP_CODEC_LZ4 : VBP_CODEC_RAW, ch, 3, clips,
                                   NULL);
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.background = 1;
        vbp_loader *ld = open_ok(p, &o);
        const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
        assert_int_equal(sh->background, 1);
        assert_int_equal(sh->x_floats, 4 * ch * W * H);
        const uint64_t ids[] = { 0, 3, 200, 301 }; /* clips 0, 1, 1, 2 */
        const uint8_t flips[] = { 0, 1, 0, 1 };
        vbp_augment aug[4] = { { 1, 0, 0, 0 }, { 1, 0, 0, 0 }, { 1, 0, 2, -1 }, { 1, 0, 0, 0 } };
        float *x = malloc(4 * sh->x_floats * sizeof(float));
        float *y = malloc(4 * sh->y_floats * sizeof(float));
        vbp_error err;
        assert_int_equal(vbp_loader_assemble_aug(ld, ids, flips, aug, 4, x, y, &err), VBP_OK);
        for (int i = 0; i < 4; i++) {
            vbp_sample s;
            assert_int_equal(vbp_loader_sample(ld, ids[i], &s), VBP_OK);
            if (i != 2)
                expect_sample(ld, ids[i], flips[i], x + i * sh->x_floats, y + i * sh->y_floats);
            const uint32_t k = (uint32_t)s.clip, n = clips[k];
            uint32_t st = 1;
            while ((n + st - 1) / st > 128)
                st *= 2;
            const float *bg = x + i * sh->x_floats + 3 * ch * W * H;
            for (uint32_t c = 0; c < ch; c++)
                for (uint32_t yy = 0; yy < H; yy++)
                    for (uint32_t xx = 0; xx < W; xx++) {
                        /* the source pixel of (xx, yy): shifted by (dx, dy), zero outside */
                        const int64_t sy = (int64_t)yy - aug[i].dy;
                        int64_t sx = (int64_t)xx - aug[i].dx;
                        sx = flips[i] ? (int64_t)W - 1 - sx : sx;
                        float want = 0.0f;
                        if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
                            uint8_t v[128];
                            uint32_t m = 0;
                            for (uint32_t f = 0; f < n; f += st)
                                v[m++] = frame_px(k, f, c, (uint32_t)sy, (uint32_t)sx);
                            qsort(v, m, 1, cmp_u8);
                            want = (float)v[(m - 1) / 2] / 255.0f;
                        }
                        if (bg[(c * H + yy) * W + xx] != want)
                            fail_msg("sample %d plane %u (%u, %u): %g, want %g", i, c, xx, yy,
                                     (double)bg[(c * H + yy) * W + xx], (double)want);
                    }
        }
        free(x);
        free(y);
        vbp_loader_close(ld);
    }
}

/* Binary targets: heatmaps exactly 1 where v >= cut (mirrored with the flip), frames unchanged. */
static void binary_targets_are_discs_with_the_cut(void **state)
{
    (void)state;
    const char *p = write_pack("bin.vbp", VBP_CODEC_LZ4, 1, 4, three_clips, three_splits);
    vbp_target t;
    assert_int_equal(vbp_target_parse("binary", &t), VBP_OK);
    assert_int_equal(t, VBP_TARGET_BINARY);
    assert_string_equal(vbp_target_name(VBP_TARGET_SOFT), "soft");
    assert_int_equal(vbp_target_parse("hard", &t), VBP_E_ARG);
    const uint32_t cuts[] = { 0, 1, 100, 200, 255 };
    for (size_t ci = 0; ci < sizeof cuts / sizeof *cuts; ci++) {
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.target = VBP_TARGET_BINARY;
        o.target_cut = cuts[ci];
        uint32_t cut = cuts[ci] ? cuts[ci] : VBP_TARGET_CUT_DEFAULT; /* 0 = the default */
        vbp_loader *ld = open_ok(p, &o);
        const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
        const uint64_t ids[] = { 0, 4, 2, 7 };
        const uint8_t flips[] = { 0, 1, 1, 0 };
        float *x = malloc(4 * sh->x_floats * sizeof(float));
        float *y = malloc(4 * sh->y_floats * sizeof(float));
        vbp_error err;
        assert_int_equal(vbp_loader_assemble(ld, ids, flips, 4, x, y, &err), VBP_OK);
        size_t ones = 0, zeros_above = 0;
        for (int i = 0; i < 4; i++) {
            vbp_sample s;
            assert_int_equal(vbp_loader_sample(ld, ids[i], &s), VBP_OK);
            for (uint32_t tt = 0; tt < 3; tt++)
                for (uint32_t yy = 0; yy < H; yy++)
                    for (uint32_t xx = 0; xx < W; xx++) {
                        uint32_t sx = flips[i] ? W - 1 - xx : xx;
                        uint32_t f = (uint32_t)s.clip_frame + tt;
                        uint8_t v = heat_px((uint32_t)s.clip, f, yy, sx);
                        float got = y[i * sh->y_floats + (tt * H + yy) * W + xx];
                        assert_true(got == (v >= cut ? 1.0f : 0.0f));
                        ones += got == 1.0f;
                        zeros_above += v > 0 && got == 0.0f;
                        float want = (float)frame_px((uint32_t)s.clip, f, 0, yy, sx) / 255.0f;
                        assert_true(x[i * sh->x_floats + (tt * H + yy) * W + xx] == want);
                    }
        }
        /* The cut really splits the blob values (neither all nor none for the middle cuts). */
        if (cut == 100 || cut == 200 || cut == 128)
            assert_true(ones > 0 && zeros_above > 0);
        free(x);
        free(y);
        vbp_loader_close(ld);
    }
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.target = VBP_TARGET_BINARY;
    o.target_cut = 256;
    vbp_loader *ld;
    vbp_error err;
    assert_int_equal(vbp_loader_open_path(p, &o, &ld, &err), VBP_E_ARG);
}

/* Hash of every batch of `epochs` epochs (x, y, sample ids, flips) into out. */
static size_t run_epochs(vbp_loader *ld, uint64_t first_epoch, uint64_t epochs, uint64_t start,
                         uint64_t *out)
{
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    vbp_error err;
    size_t k = 0;
    for (uint64_t e = first_epoch; e < first_epoch + epochs; e++) {
        assert_int_equal(vbp_loader_begin_epoch(ld, e, e == first_epoch ? start : 0, &err), VBP_OK);
        vbp_batch b;
        int n;
        uint64_t expect = e == first_epoch ? start : 0;
        while ((n = vbp_loader_next(ld, &b, &err)) > 0) {
            assert_int_equal(b.epoch, e);
            assert_int_equal(b.index, expect++);
            XXH3_state_t *st = XXH3_createState();
            XXH3_64bits_reset(st);
            XXH3_64bits_update(st, b.x, b.n * sh->x_floats * sizeof(float));
            XXH3_64bits_update(st, b.y, b.n * sh->y_floats * sizeof(float));
            for (size_t i = 0; i < b.n; i++) {
                XXH3_64bits_update(st, &b.samples[i].sample, 8);
                XXH3_64bits_update(st, &b.samples[i].flip, sizeof b.samples[i].flip);
            }
            out[k++] = XXH3_64bits_digest(st);
            XXH3_freeState(st);
        }
        assert_int_equal(n, 0);
        assert_int_equal(expect, sh->batches);
    }
    return k;
}

static void next_matches_order_flips_and_assemble(void **state)
{
    (void)state;
    const char *p = write_pack("nx.vbp", VBP_CODEC_RAW, 1, 4, three_clips, three_splits);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.batch = 3;
    o.flip_prob = 0.5f;
    o.threads = 2;
    vbp_loader *ld = open_ok(p, &o);
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    assert_int_equal(sh->batches, 3); /* 8 samples: 3 + 3 + 2 */
    uint64_t order[8];
    vbp_error err;
    assert_int_equal(vbp_loader_epoch_order(ld, 1, order, &err), VBP_OK);
    assert_int_equal(vbp_loader_begin_epoch(ld, 1, 0, &err), VBP_OK);
    float *x = malloc(3 * sh->x_floats * sizeof(float)), *y = malloc(3 * sh->y_floats * sizeof(float));
    vbp_batch b;
    int n, flipped = 0;
    uint64_t pos = 0;
    while ((n = vbp_loader_next(ld, &b, &err)) > 0) {
        assert_int_equal(n, pos == 6 ? 2 : 3);
        uint64_t ids[3];
        uint8_t fl[3];
        for (int i = 0; i < n; i++, pos++) {
            ids[i] = b.samples[i].sample;
            fl[i] = (uint8_t)b.samples[i].flip;
            assert_int_equal(ids[i], order[pos]);
            assert_int_equal(fl[i], vbp_loader_flip(ld, 1, pos));
            flipped += fl[i];
            expect_sample(ld, ids[i], fl[i], b.x + i * sh->x_floats, b.y + i * sh->y_floats);
        }
        assert_int_equal(vbp_loader_assemble(ld, ids, fl, (size_t)n, x, y, &err), VBP_OK);
        assert_memory_equal(x, b.x, n * sh->x_floats * sizeof(float));
        assert_memory_equal(y, b.y, n * sh->y_floats * sizeof(float));
    }
    assert_int_equal(pos, 8);
    assert_true(flipped > 0 && flipped < 8);
    assert_true(vbp_loader_wait_seconds(ld) >= 0.0);
    free(x);
    free(y);
    vbp_loader_close(ld);

    o.drop_last = 1;
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_get_shape(ld)->batches, 2);
    vbp_loader_close(ld);
}

/* Modes, codecs and thread counts change nothing in what is served. */
/* Check a sample assembled with flip and aug against the generator and the formula of vbp_loader.h. */
static void expect_augmented(const vbp_loader *ld, uint64_t sample, int flip, const vbp_augment *a,
                             const float *x, const float *y)
{
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    vbp_sample s;
    assert_int_equal(vbp_loader_sample(ld, sample, &s), VBP_OK);
    for (uint32_t t = 0; t < sh->seq; t++)
        for (int32_t yy = 0; yy < (int32_t)H; yy++)
            for (int32_t xx = 0; xx < (int32_t)W; xx++) {
                int32_t sy = yy - a->dy, sx0 = xx - a->dx;
                int in = sy >= 0 && sy < (int32_t)H && sx0 >= 0 && sx0 < (int32_t)W;
                uint32_t sx = (uint32_t)(flip ? (int32_t)W - 1 - sx0 : sx0);
                uint32_t f = (uint32_t)s.clip_frame + t;
                for (uint32_t c = 0; c < sh->channels; c++) {
                    float want = 0.0f;
                    if (in) {
                        want = a->gain * ((float)frame_px((uint32_t)s.clip, f, c, (uint32_t)sy, sx) / 255.0f) + a->bias;
                        want = want < 0.0f ? 0.0f : want > 1.0f ? 1.0f : want;
                    }
                    float got = x[((t * sh->channels + c) * H + (uint32_t)yy) * W + (uint32_t)xx];
                    assert_true(fabsf(got - want) <= 1e-6f);
                }
                float want = in ? (float)heat_px((uint32_t)s.clip, f, (uint32_t)sy, sx) / 255.0f : 0.0f;
                assert_true(y[(t * H + (uint32_t)yy) * W + (uint32_t)xx] == want);
            }
}

/* Brightness/contrast and shift: deterministic per (seed, epoch, position), the formula of
 * vbp_loader.h with and without flip, heatmaps moved with the frames and not jittered. */
static void augmentations_follow_the_formula(void **state)
{
    (void)state;
    const char *p = write_pack("aug.vbp", VBP_CODEC_LZ4, 3, 4, three_clips, three_splits);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.channels = 3;
    o.batch = 3;
    o.flip_prob = 0.5f;
    o.brightness = 0.2f;
    o.contrast = 0.3f;
    o.shift = 3;
    o.seed = 5;
    o.threads = 2;
    vbp_loader *ld = open_ok(p, &o);
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    /* Ranges, variety, reproducibility, dependence on the seed. */
    int dxs = 0, seen[7] = { 0 };
    for (uint64_t pos = 0; pos < 64; pos++) {
        vbp_augment a = vbp_loader_augment(ld, 1, pos), b = vbp_loader_augment(ld, 1, pos);
        assert_memory_equal(&a, &b, sizeof a);
        assert_true(a.gain >= 0.7f && a.gain <= 1.3f && a.bias >= -0.2f && a.bias <= 0.2f);
        assert_true(a.dx >= -3 && a.dx <= 3 && a.dy >= -3 && a.dy <= 3);
        dxs += !seen[a.dx + 3]++;
    }
    assert_int_equal(dxs, 7);
    vbp_augment e1 = vbp_loader_augment(ld, 1, 0), e2 = vbp_loader_augment(ld, 2, 0);
    assert_true(e1.gain != e2.gain);
    vbp_loader_opts o2 = o;
    o2.seed = 6;
    vbp_loader *other = open_ok(p, &o2);
    vbp_augment s6 = vbp_loader_augment(other, 1, 0);
    assert_true(s6.gain != e1.gain && s6.bias != e1.bias);
    vbp_loader_close(other);

    /* Served batches: aug of (epoch, position), the formula, reproduced by assemble_aug. */
    float *x = malloc(3 * sh->x_floats * sizeof(float)), *y = malloc(3 * sh->y_floats * sizeof(float));
    vbp_error err;
    assert_int_equal(vbp_loader_begin_epoch(ld, 1, 0, &err), VBP_OK);
    vbp_batch b;
    int n, flipped = 0;
    uint64_t pos = 0;
    while ((n = vbp_loader_next(ld, &b, &err)) > 0) {
        uint64_t ids[3];
        uint8_t fl[3];
        vbp_augment au[3];
        for (int i = 0; i < n; i++, pos++) {
            vbp_augment want = vbp_loader_augment(ld, 1, pos);
            assert_memory_equal(&b.samples[i].aug, &want, sizeof want);
            ids[i] = b.samples[i].sample;
            fl[i] = (uint8_t)b.samples[i].flip;
            au[i] = b.samples[i].aug;
            flipped += fl[i];
            expect_augmented(ld, ids[i], fl[i], &au[i], b.x + i * sh->x_floats, b.y + i * sh->y_floats);
        }
        assert_int_equal(vbp_loader_assemble_aug(ld, ids, fl, au, (size_t)n, x, y, &err), VBP_OK);
        assert_memory_equal(x, b.x, n * sh->x_floats * sizeof(float));
        assert_memory_equal(y, b.y, n * sh->y_floats * sizeof(float));
    }
    assert_true(flipped > 0 && flipped < (int)pos);

    /* Chosen augmentations on one sample: the heatmap moves by exactly (dx, dy) with the frame;
     * brightness and contrast leave heatmaps bit-identical. */
    const uint64_t id[3] = { 4, 4, 4 };
    const uint8_t fl[3] = { 0, 0, 1 };
    const vbp_augment au[3] = { { 1.0f, 0.0f, 0, 0 }, { 1.0f, 0.0f, 2, -1 }, { 1.25f, -0.1f, -3, 2 } };
    assert_int_equal(vbp_loader_assemble_aug(ld, id, fl, au, 3, x, y, &err), VBP_OK);
    for (int i = 0; i < 3; i++)
        expect_augmented(ld, 4, fl[i], &au[i], x + i * sh->x_floats, y + i * sh->y_floats);
    size_t moved = 0;
    for (uint32_t t = 0; t < 3; t++)
        for (uint32_t yy = 0; yy < H; yy++)
            for (uint32_t xx = 0; xx < W; xx++) {
                float v = y[(t * H + yy) * W + xx];
                int32_t ty = (int32_t)yy - 1, tx = (int32_t)xx + 2;
                if (v > 0.0f && ty >= 0 && tx < (int32_t)W) {
                    assert_true(y[sh->y_floats + (t * H + (uint32_t)ty) * W + (uint32_t)tx] == v);
                    moved++;
                }
            }
    assert_true(moved > 0);
    const vbp_augment jitter[2] = { { 1.0f, 0.0f, 0, 0 }, { 0.8f, 0.15f, 0, 0 } };
    assert_int_equal(vbp_loader_assemble_aug(ld, id, fl, jitter, 2, x, y, &err), VBP_OK);
    assert_memory_equal(y, y + sh->y_floats, sh->y_floats * sizeof(float));
    assert_memory_not_equal(x, x + sh->x_floats, sh->x_floats * sizeof(float));
    free(x);
    free(y);
    vbp_loader_close(ld);

    /* Off (explicit zeros): bit-identical batches to the default loader, augs none. */
    uint64_t ref[16], got[16];
    vbp_loader_opts_default(&o);
    o.batch = 3;
    o.flip_prob = 0.5f;
    ld = open_ok(p, &o);
    size_t k = run_epochs(ld, 0, 2, 0, ref);
    vbp_loader_close(ld);
    o.brightness = 0.0f;
    o.contrast = 0.0f;
    o.shift = 0;
    o.threads = 2;
    ld = open_ok(p, &o);
    assert_int_equal(run_epochs(ld, 0, 2, 0, got), k);
    assert_memory_equal(ref, got, k * sizeof *ref);
    vbp_augment none = vbp_loader_augment(ld, 0, 3);
    assert_true(none.gain == 1.0f && none.bias == 0.0f && none.dx == 0 && none.dy == 0);
    vbp_loader_close(ld);
    /* On: the same batches with 0 or 2 worker threads. */
    o.brightness = 0.1f;
    o.shift = 2;
    o.threads = 0;
    ld = open_ok(p, &o);
    k = run_epochs(ld, 0, 2, 0, ref);
    vbp_loader_close(ld);
    o.threads = 2;
    ld = open_ok(p, &o);
    assert_int_equal(run_epochs(ld, 0, 2, 0, got), k);
    assert_memory_equal(ref, got, k * sizeof *ref);
    vbp_loader_close(ld);
    o.brightness = 1.5f;
    assert_int_equal(vbp_loader_open_path(p, &o, &ld, &err), VBP_E_ARG);
}

static void batches_identical_across_modes_codecs_threads(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 17, 9, 3, 12 };
    char raw[512], lz4[512];
    snprintf(raw, sizeof raw, "%s", write_pack("raw.vbp", VBP_CODEC_RAW, 1, 4, clips, NULL));
    snprintf(lz4, sizeof lz4, "%s", write_pack("lz4.vbp", VBP_CODEC_LZ4, 1, 4, clips, NULL));
    assert_int_equal(lz4_records(lz4), 2 * (17 + 9 + 3 + 12)); /* every record compressed */
    struct { const char *path; vbp_load_mode mode; uint32_t threads, prefetch; } runs[] = {
        { raw, VBP_LOAD_DISK, 0, 0 },    { raw, VBP_LOAD_PRELOAD, 0, 0 },
        { raw, VBP_LOAD_DISK, 2, 3 },    { raw, VBP_LOAD_PRELOAD, 1, 1 },
        { lz4, VBP_LOAD_DISK, 0, 0 },    { lz4, VBP_LOAD_PRELOAD, 2, 2 },
        { lz4, VBP_LOAD_DISK, 3, 5 },
    };
    uint64_t ref[64], got[64];
    size_t nref = 0;
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.batch = 5;
        o.flip_prob = 0.5f;
        o.seed = 11;
        o.mode = runs[r].mode;
        o.threads = runs[r].threads;
        o.prefetch = runs[r].prefetch;
        vbp_loader *ld = open_ok(runs[r].path, &o);
        assert_int_equal(vbp_loader_get_shape(ld)->order, VBP_ORDER_SHUFFLE);
        size_t n = run_epochs(ld, 0, 3, 0, r ? got : ref);
        if (!r)
            nref = n;
        else {
            assert_int_equal(n, nref);
            assert_memory_equal(ref, got, n * 8);
        }
        vbp_loader_close(ld);
    }
    assert_int_equal(nref, 3 * 7); /* 33 windows, batches of 5 */
}

/* Restarting at (epoch, batch) serves exactly what an uninterrupted run serves. */
static void resume_at_epoch_and_batch(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 30, 20 };
    const char *p = write_pack("res.vbp", VBP_CODEC_RAW, 1, 2, clips, NULL);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.batch = 4;
    o.flip_prob = 0.3f;
    o.threads = 2;
    vbp_loader *ld = open_ok(p, &o);
    uint64_t full[64], part[64];
    size_t n = run_epochs(ld, 2, 1, 0, full);
    assert_int_equal(n, 12); /* 46 windows */
    /* Begin, read two batches (so workers run ahead), then jump. */
    vbp_error err;
    vbp_batch b;
    assert_int_equal(vbp_loader_begin_epoch(ld, 0, 0, &err), VBP_OK);
    assert_true(vbp_loader_next(ld, &b, &err) > 0);
    assert_true(vbp_loader_next(ld, &b, &err) > 0);
    size_t m = run_epochs(ld, 2, 1, 5, part);
    assert_int_equal(m, 7);
    assert_memory_equal(full + 5, part, m * 8);
    vbp_loader_close(ld);
    o.threads = 0; /* a fresh process resuming, without threads */
    ld = open_ok(p, &o);
    assert_true(vbp_loader_wait_seconds(ld) == 0.0);
    m = run_epochs(ld, 2, 1, 11, part);
    assert_int_equal(m, 1);
    assert_int_equal(full[11], part[0]);
    assert_true(vbp_loader_wait_seconds(ld) > 0.0); /* assembling inside next() is waiting */
    assert_int_equal(vbp_loader_begin_epoch(ld, 2, 13, &err), VBP_E_ARG);
    assert_int_equal(vbp_loader_begin_epoch(ld, 2, 12, &err), VBP_OK);
    assert_int_equal(vbp_loader_next(ld, &b, &err), 0);
    vbp_loader_close(ld);
}

/* A pack larger than the memory limit the test sets is read in locality order. */
static void pack_over_memory_limit_uses_locality_order(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 40, 25 };
    const char *p = write_pack("big.vbp", VBP_CODEC_RAW, 1, 2, clips, NULL);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.memory_limit = 1ull << 40;
    vbp_loader *ld = open_ok(p, &o);
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    assert_int_equal(sh->order, VBP_ORDER_SHUFFLE);
    uint64_t data = sh->data_bytes;
    assert_true(data >= 65ull * (W * H * 2));
    vbp_loader_close(ld);

    o.memory_limit = data / 3;
    o.batch = 4;
    o.threads = 2;
    o.block_samples = 6;
    ld = open_ok(p, &o);
    sh = vbp_loader_get_shape(ld);
    assert_int_equal(sh->order, VBP_ORDER_LOCALITY);
    assert_int_equal(sh->memory_limit, data / 3);
    uint64_t n = sh->samples, *seen = calloc(n, 8), *order = malloc(n * 8);
    vbp_error err;
    assert_int_equal(vbp_loader_epoch_order(ld, 1, order, &err), VBP_OK);
    assert_int_equal(vbp_loader_begin_epoch(ld, 1, 0, &err), VBP_OK);
    vbp_batch b;
    uint64_t pos = 0;
    while (vbp_loader_next(ld, &b, &err) > 0)
        for (size_t i = 0; i < b.n; i++, pos++) {
            assert_int_equal(b.samples[i].sample, order[pos]);
            seen[b.samples[i].sample]++;
            expect_sample(ld, b.samples[i].sample, 0, b.x + i * sh->x_floats,
                          b.y + i * sh->y_floats);
        }
    assert_int_equal(pos, n);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    free(order);
    vbp_loader_close(ld);

    o.order = VBP_ORDER_SHUFFLE; /* the choice can be overridden */
    ld = open_ok(p, &o);
    assert_int_equal(vbp_loader_get_shape(ld)->order, VBP_ORDER_SHUFFLE);
    vbp_loader_close(ld);

    o.mode = VBP_LOAD_PRELOAD; /* preloading more than fits is refused, in one line */
    ld = open_ok(p, &o);
    assert_non_null(strstr(vbp_loader_note(ld), "preload skipped"));
    assert_int_equal(vbp_loader_get_shape(ld)->mode, VBP_LOAD_DISK);
    vbp_memreport m;
    assert_int_equal(vbp_loader_memory(ld, &m, &err), VBP_OK);
    assert_int_equal(m.locked_bytes, 0);
    vbp_loader_close(ld);
}

/* The pack's share: the limit the caller read (or the measured one) less the loader's buffers
 * and the caller's reserve; a preload that does not fit in it runs from disk, one that fits
 * without room to spare is populated but not locked. */
static void preload_counts_buffers_reserve_and_spare(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 30, 12 };
    const char *p = write_pack("share.vbp", VBP_CODEC_RAW, 1, 2, clips, NULL);
    vbp_pack *pack;
    vbp_error err;
    assert_int_equal(vbp_pack_open(p, &pack, &err), VBP_OK);
    size_t len;
    vbp_pack_map(pack, &len);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.mode = VBP_LOAD_PRELOAD;
    o.threads = 2;
    o.batch = 3;
    const uint64_t buffers = vbp_loader_buffer_bytes(pack, &o);
    /* three slots of 3 samples of 3 frames and 3 heatmaps as float32, lz4 rows, the index */
    assert_true(buffers >= 3ull * 3 * (3 + 3) * W * H * sizeof(float));
    assert_true(buffers <= 3ull * 3 * (3 + 3) * W * H * sizeof(float) + 3 * W * H + 12 * 42);

    /* A cgroup v2 limit as a caller read it: room for the pack, the buffers and the reserve,
     * and 1 MiB more: populated, not locked (16 MiB to spare are wanted). */
    vbp_memlimit lim;
    memset(&lim, 0, sizeof lim);
    lim.of[VBP_MEMLIMIT_CGROUP2] = (vbp_memlimit_entry){ 1, 64ull << 20, 0, 64ull << 20 };
    lim.bytes = lim.cache_bytes = len + buffers + (5ull << 20) + (1ull << 20);
    lim.source = lim.cache_source = VBP_MEMLIMIT_CGROUP2;
    snprintf(lim.cgroup_dir, sizeof lim.cgroup_dir, "/sys/fs/cgroup/job");
    o.limit = &lim;
    o.reserve_bytes = 5ull << 20;
    vbp_loader *ld;
    assert_int_equal(vbp_loader_open(pack, &o, &ld, &err), VBP_OK);
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    assert_int_equal(sh->memory_source, VBP_MEMLIMIT_CGROUP2);
    assert_int_equal(sh->memory_limit, len + (1ull << 20));
    assert_int_equal(sh->mode, VBP_LOAD_PRELOAD);
    assert_non_null(strstr(vbp_loader_note(ld), "not locked"));
    assert_non_null(strstr(vbp_loader_note(ld), "cgroup v2 memory.max 64.0 MiB of /sys/fs/cgroup/job"));
    vbp_memreport m;
    assert_int_equal(vbp_loader_memory(ld, &m, &err), VBP_OK);
    assert_int_equal(m.locked_bytes, 0);
    assert_int_equal(m.resident_bytes, len);
    vbp_loader_close(ld);

    /* 1 MiB less than the pack needs: from disk, and the note says why, in one line. */
    lim.cache_bytes = len + buffers + (5ull << 20) - (1ull << 20);
    assert_int_equal(vbp_loader_open(pack, &o, &ld, &err), VBP_OK);
    sh = vbp_loader_get_shape(ld);
    assert_int_equal(sh->mode, VBP_LOAD_DISK);
    assert_int_equal(sh->order, VBP_ORDER_LOCALITY); /* AUTO: the records do not fit either */
    const char *note = vbp_loader_note(ld);
    assert_non_null(strstr(note, "preload skipped: the pack ("));
    assert_non_null(strstr(note, "for the caller and the batch buffers); disk: "));
    assert_null(strchr(note, '\n'));
    vbp_loader_close(ld);

    /* Measured (no limit passed): the pack's share is what the process may use less the rest,
     * and the source is named (MemAvailable here, the cgroup's limit inside one). */
    o.limit = NULL;
    o.reserve_bytes = 1ull << 62; /* more than any machine: nothing is left for the pack */
    assert_int_equal(vbp_loader_open(pack, &o, &ld, &err), VBP_OK);
    sh = vbp_loader_get_shape(ld);
    assert_int_equal(sh->memory_limit, 0);
    assert_true(sh->memory_source == VBP_MEMLIMIT_MEMINFO || sh->memory_source == VBP_MEMLIMIT_CGROUP1 ||
                sh->memory_source == VBP_MEMLIMIT_CGROUP2);
    assert_int_equal(sh->mode, VBP_LOAD_DISK);
    assert_non_null(strstr(vbp_loader_note(ld), vbp_memlimit_source_name(sh->memory_source)));
    vbp_loader_close(ld);
    vbp_pack_close(pack);
}

static void memory_report_is_measured(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 20, 10 };
    const char *p = write_pack("mem.vbp", VBP_CODEC_RAW, 3, 2, clips, NULL);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.mode = VBP_LOAD_PRELOAD;
    vbp_loader *ld = open_ok(p, &o);
    assert_non_null(strstr(vbp_loader_note(ld), "preload:"));
    vbp_memreport m;
    vbp_error err;
    assert_int_equal(vbp_loader_memory(ld, &m, &err), VBP_OK);
    size_t len;
    vbp_pack_map(vbp_loader_pack(ld), &len);
    assert_int_equal(m.pack_bytes, len);
    assert_int_equal(m.resident_bytes, len); /* populated: every page in the page cache */
    assert_true(m.mapped_rss_bytes > 0 && m.mapped_rss_bytes <= len + 4096);
    assert_true(m.rss_bytes > 0 && m.peak_rss_bytes >= m.rss_bytes);
    assert_int_equal(m.float32_bytes, 30ull * (3 + 1) * W * H * 4);
    assert_int_equal(m.float32_window_bytes, 26ull * 3 * (3 + 1) * W * H * 4);
    assert_int_equal(m.data_bytes, vbp_loader_get_shape(ld)->data_bytes);
    assert_int_equal(m.saving_bytes, m.float32_bytes - m.data_bytes);
    assert_true(m.mem_available_bytes > 0);
    assert_int_not_equal(m.limit.source, VBP_MEMLIMIT_NONE); /* MemAvailable at least */
    assert_true(m.limit.bytes <= m.mem_available_bytes);
    char text[2048];
    size_t need = vbp_memreport_format(&m, text, sizeof text);
    assert_true(need > 0 && need < sizeof text);
    assert_non_null(strstr(text, "page cache"));
    assert_non_null(strstr(text, "may still use"));
    assert_non_null(strstr(text, vbp_memlimit_source_name(m.limit.source)));
    vbp_loader_close(ld);
}

/* Two processes on one pack: identical batches, and the pages are shared
 * (each process's proportional share of the mapping is about half of it). */
static void two_processes_share_one_copy(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 40, 30 };
    char path[512];
    snprintf(path, sizeof path, "%s", write_pack("two.vbp", VBP_CODEC_RAW, 3, 2, clips, NULL));
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.mode = VBP_LOAD_PRELOAD;
    o.flip_prob = 0.5f;
    o.batch = 8;
    vbp_loader *ld = open_ok(path, &o);
    uint64_t mine[32], theirs[32];
    size_t n = run_epochs(ld, 0, 2, 0, mine);
    int to_parent[2], to_child[2];
    assert_int_equal(pipe(to_parent), 0);
    assert_int_equal(pipe(to_child), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vbp_loader *c;
        vbp_error err;
        uint64_t h[32];
        vbp_memreport m;
        char go;
        memset(&m, 0, sizeof m);
        int ok = vbp_loader_open_path(path, &o, &c, &err) == VBP_OK;
        size_t k = 0;
        if (ok) {
            for (uint64_t e = 0; e < 2; e++) {
                vbp_batch b;
                vbp_loader_begin_epoch(c, e, 0, &err);
                while (vbp_loader_next(c, &b, &err) > 0 && k < 32)
                    h[k++] = XXH3_64bits(b.x, b.n * vbp_loader_get_shape(c)->x_floats * 4) ^
                             XXH3_64bits(b.y, b.n * vbp_loader_get_shape(c)->y_floats * 4);
            }
            ok = vbp_loader_memory(c, &m, &err) == VBP_OK;
        }
        if (write(to_parent[1], &k, sizeof k) != sizeof k || write(to_parent[1], h, sizeof h) != sizeof h ||
            write(to_parent[1], &m, sizeof m) != sizeof m)
            _exit(3);
        if (read(to_child[0], &go, 1) != 1) /* stay alive while the parent measures */
            _exit(4);
        vbp_loader_close(c);
        _exit(ok ? 0 : 2);
    }
    size_t k;
    vbp_memreport cm, pm;
    vbp_error err;
    assert_int_equal(read(to_parent[0], &k, sizeof k), sizeof k);
    assert_int_equal(read(to_parent[0], theirs, sizeof theirs), sizeof theirs);
    assert_int_equal(read(to_parent[0], &cm, sizeof cm), sizeof cm);
    assert_int_equal(vbp_loader_memory(ld, &pm, &err), VBP_OK);
    assert_int_equal(write(to_child[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(k, n);
    /* run_epochs hashes more than the child; compare by re-hashing x and y only. */
    vbp_batch b;
    size_t j = 0;
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    for (uint64_t e = 0; e < 2; e++) {
        assert_int_equal(vbp_loader_begin_epoch(ld, e, 0, &err), VBP_OK);
        while (vbp_loader_next(ld, &b, &err) > 0)
            assert_int_equal(XXH3_64bits(b.x, b.n * sh->x_floats * 4) ^
                             XXH3_64bits(b.y, b.n * sh->y_floats * 4), theirs[j++]);
    }
    assert_int_equal(j, n);
    /* One copy: the whole pack is resident once, and each process is charged
     * about half of the pages both map (Pss), not all of them. */
    assert_int_equal(cm.resident_bytes, cm.pack_bytes);
    assert_true(cm.mapped_rss_bytes >= cm.pack_bytes / 2);
    assert_true(cm.mapped_pss_bytes * 10 < cm.mapped_rss_bytes * 7);
    assert_true(pm.mapped_pss_bytes * 10 < pm.mapped_rss_bytes * 7);
    close(to_parent[0]);
    close(to_parent[1]);
    close(to_child[0]);
    close(to_child[1]);
    vbp_loader_close(ld);
}

/* A record that does not decode fails next() with one line naming the pack,
 * the clip and the frame, whether a worker or next() itself assembled it. */
static void undecodable_record_is_reported(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 6, 5 };
    char path[512];
    snprintf(path, sizeof path, "%s", write_pack("bad.vbp", VBP_CODEC_LZ4, 1, 2, clips, NULL));
    vbp_pack *p;
    vbp_error err;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    vbp_record rec;
    assert_int_equal(vbp_pack_record(p, 8, VBP_REC_HEATMAP, &rec), VBP_OK); /* clip1, frame 2 */
    size_t len;
    long off = (long)(rec.stored - vbp_pack_map(p, &len));
    assert_int_equal(rec.codec, VBP_CODEC_LZ4);
    vbp_pack_close(p);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    for (int i = 0; i < 8; i++)
        fputc(0xff, f);
    assert_int_equal(fclose(f), 0);

    for (uint32_t threads = 0; threads <= 2; threads += 2) {
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.order = VBP_ORDER_SEQUENTIAL;
        o.batch = 2;
        o.threads = threads;
        vbp_loader *ld = open_ok(path, &o);
        vbp_batch b;
        int rc, served = 0;
        memset(&err, 0, sizeof err);
        while ((rc = vbp_loader_next(ld, &b, &err)) > 0)
            served += rc;
        assert_int_equal(rc, VBP_E_CODEC);
        assert_int_equal(served, 4); /* clip 0's windows; clip 1's first window holds frame 2 */
        assert_non_null(strstr(err.detail, path));
        assert_non_null(strstr(err.detail, "heatmap of frame 2 of clip 'clip1'"));
        assert_null(strchr(err.detail, '\n'));
        vbp_loader_close(ld);
    }
}

/* Where mlock is not permitted, preload still works and says why in one line. */
static void preload_without_mlock_says_so(void **state)
{
    (void)state;
    static const uint32_t clips[] = { 12 };
    char path[512];
    snprintf(path, sizeof path, "%s", write_pack("nolock.vbp", VBP_CODEC_RAW, 1, 1, clips, NULL));
    assert_int_equal(chmod(fx_dir, 0755), 0);
    assert_int_equal(chmod(path, 0644), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* root ignores RLIMIT_MEMLOCK: become an ordinary user first */
        if (geteuid() == 0 && setuid(65534))
            _exit(2);
        struct rlimit rl = { 0, 0 };
        if (setrlimit(RLIMIT_MEMLOCK, &rl))
            _exit(3);
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.mode = VBP_LOAD_PRELOAD;
        vbp_loader *ld;
        vbp_error err;
        vbp_batch b;
        if (vbp_loader_open_path(path, &o, &ld, &err))
            _exit(4);
        const char *note = vbp_loader_note(ld);
        int ok = ASAN ? !strncmp(note, "preload: ", 9)
                      : strstr(note, "mlock refused") && strstr(note, "RLIMIT_MEMLOCK 0.0 MiB") &&
                            !strchr(note, '\n');
        if (!ok)
            fprintf(stderr, "note: %s\n", note);
        vbp_memreport m;
        memset(&err, 0, sizeof err);
        if (vbp_loader_next(ld, &b, &err) != 4 || vbp_loader_memory(ld, &m, &err) ||
            (!ASAN && m.locked_bytes != 0) || m.resident_bytes != m.pack_bytes) {
            fprintf(stderr, "after preload: %s\n", vbp_error_message(&err));
            ok = 0;
        }
        vbp_loader_close(ld);
        _exit(ok ? 0 : 5);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(chmod(fx_dir, 0700), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_respect_clips_strides_splits),
        cmocka_unit_test(geometry_mismatch_is_one_clear_line),
        cmocka_unit_test(orders_are_reproducible_permutations),
        cmocka_unit_test(batch_values_are_pixels_over_255_and_flip_mirrors_both),
        cmocka_unit_test(next_matches_order_flips_and_assemble),
        cmocka_unit_test(binary_targets_are_discs_with_the_cut),
        cmocka_unit_test(background_is_the_clip_median_moved_with_the_window),
        cmocka_unit_test(augmentations_follow_the_formula),
        cmocka_unit_test(batches_identical_across_modes_codecs_threads),
        cmocka_unit_test(resume_at_epoch_and_batch),
        cmocka_unit_test(pack_over_memory_limit_uses_locality_order),
        cmocka_unit_test(preload_counts_buffers_reserve_and_spare),
        cmocka_unit_test(memory_report_is_measured),
        cmocka_unit_test(two_processes_share_one_copy),
        cmocka_unit_test(undecodable_record_is_reported),
        cmocka_unit_test(preload_without_mlock_says_so),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

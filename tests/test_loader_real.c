/* test_loader_real.c - the loader on packs of the real clips: every value of a batch equals
 * the source PNG pixel / 255 (mirrored when flipped), for RGB raw and gray lz4 packs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "fixture.h"
#include "vbp_image.h"
#include "vbp_build.h"
#include "vbp_loader.h"

static char root[1024];

static void build(const char *path, uint32_t channels, vbp_codec codec)
{
    vbp_build_source src = { root, VBP_SPLIT_TRAIN };
    vbp_build_opts o;
    vbp_build_opts_init(&o);
    o.sources = &src;
    o.source_count = 1;
    o.frame_channels = channels;
    o.codec = codec;
    o.overwrite = 1;
    vbp_error err;
    int rc = vbp_build_pack(path, &o, NULL, &err);
    if (rc)
        fprintf(stderr, "build: %s\n", vbp_error_message(&err));
    assert_int_equal(rc, VBP_OK);
}

/* Compare x, y of one sample with its PNGs. */
static void expect_png(const vbp_loader *ld, const vbp_sample *s, const float *x, const float *y)
{
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    const vbp_clip *c = vbp_pack_clip(vbp_loader_pack(ld), s->clip);
    size_t w = sh->width, h = sh->height, hw = w * h;
    uint8_t *px = malloc(3 * hw);
    char path[2048];
    vbp_error err;
    for (uint32_t t = 0; t < sh->seq; t++) {
        for (int heat = 0; heat < 2; heat++) {
            uint32_t planes = heat ? 1 : sh->channels;
            snprintf(path, sizeof path, "%s/%s/%s/%s/%llu.png", root, c->group,
                     heat ? "heatmaps" : "inputs", c->name,
                     (unsigned long long)(s->clip_frame + t));
            assert_int_equal(vbp_png_read_planar(path, sh->width, sh->height, planes, px, 3 * hw,
                                                 &err), VBP_OK);
            const float *got = heat ? y + t * hw : x + t * planes * hw;
            for (size_t p = 0; p < planes * h; p++)
                for (size_t i = 0; i < w; i++) {
                    size_t src = s->flip ? w - 1 - i : i;
                    if (got[p * w + i] != (float)px[p * w + src] / 255.0f)
                        fail_msg("%s plane-row %zu col %zu: %g != %u/255", path, p, i,
                                 (double)got[p * w + i], px[p * w + src]);
                }
        }
    }
    free(px);
}

static void check_pack(const char *path, uint32_t channels)
{
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.channels = channels;
    o.order = VBP_ORDER_SEQUENTIAL;
    o.flip_prob = 0.5f;
    o.batch = 2;
    o.threads = 2;
    vbp_loader *ld;
    vbp_error err;
    assert_int_equal(vbp_loader_open_path(path, &o, &ld, &err), VBP_OK);
    assert_int_equal(vbp_loader_num_samples(ld), 19 + 89); /* clips of 21 and 91 frames */
    /* Batches at the start, across the clip boundary and at the end. */
    const vbp_clip *c0 = vbp_pack_clip(vbp_loader_pack(ld), 0);
    uint64_t boundary = (c0->frame_count - 3 + 1) / 2;
    const uint64_t batches[] = { 0, boundary - 1, boundary, 53 };
    int flipped = 0, unflipped = 0;
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(vbp_loader_begin_epoch(ld, 0, batches[k], &err), VBP_OK);
        vbp_batch b;
        assert_int_equal(vbp_loader_next(ld, &b, &err), 2);
        for (size_t i = 0; i < b.n; i++) {
            assert_int_equal(b.samples[i].sample, batches[k] * 2 + i);
            flipped += b.samples[i].flip;
            unflipped += !b.samples[i].flip;
            expect_png(ld, &b.samples[i], b.x + i * vbp_loader_get_shape(ld)->x_floats,
                       b.y + i * vbp_loader_get_shape(ld)->y_floats);
        }
    }
    assert_true(flipped > 0 && unflipped > 0);
    vbp_loader_close(ld);
}

static void rgb_raw_batches_equal_png_pixels(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/rgb.vbp", fx_dir);
    build(path, 3, VBP_CODEC_RAW);
    check_pack(path, 3);
    unlink(path);
}

static void gray_lz4_batches_equal_png_pixels(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/gray.vbp", fx_dir);
    build(path, 1, VBP_CODEC_LZ4);
    check_pack(path, 1);
    unlink(path);
}

static int setup(void **state)
{
    (void)state;
    const char *data = getenv("VBP_REAL_DATA");
    if (!data)
        return -1;
    snprintf(root, sizeof root, "%s/tracknetv4", data);
    return fx_group_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rgb_raw_batches_equal_png_pixels),
        cmocka_unit_test(gray_lz4_batches_equal_png_pixels),
    };
    return cmocka_run_group_tests(tests, setup, fx_group_teardown);
}

/* test_png_read.c - src/image/png_read.c: every colour type, errors, geometry, probing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <png.h>
#include "input_fixture.h"
#include "vbp_image.h"

#define W 37u
#define H 23u

/* Every colour type decodes to the expected RGB and to its OpenCV gray. */
static void every_colour_type(void **s)
{
    (void)s;
    uint8_t want[3 * W * H], got[3 * W * H], gray[W * H];
    char path[512];
    const size_t plane = W * H;
    for (size_t i = 0; i < fx_png_case_count; i++) {
        const fx_png_case *c = &fx_png_cases[i];
        snprintf(path, sizeof path, "%s/%s.png", fx_dir, c->name);
        assert_int_equal(fx_png_write_case(path, c, W, H, (uint32_t)i, want), 0);
        vbp_error e;
        memset(got, 0xAA, sizeof got);
        int rc = vbp_png_read_planar(path, W, H, 3, got, sizeof got, &e);
        if (rc != VBP_OK)
            fail_msg("%s: %s", c->name, e.detail);
        if (memcmp(got, want, sizeof got) != 0)
            fail_msg("%s: RGB planes differ", c->name);
        assert_int_equal(vbp_png_read_planar(path, W, H, 1, gray, sizeof gray, &e), VBP_OK);
        for (size_t p = 0; p < plane; p++)
            if (gray[p] != fx_gray(want[p], want[plane + p], want[2 * plane + p]))
                fail_msg("%s: gray pixel %zu is %u, want %u", c->name, p, gray[p],
                         fx_gray(want[p], want[plane + p], want[2 * plane + p]));
        uint32_t pw, ph, pc;
        assert_int_equal(vbp_png_probe(path, &pw, &ph, &pc, &e), VBP_OK);
        assert_int_equal(pw, W);
        assert_int_equal(ph, H);
        int ct = c->color_type;
        uint32_t want_ch = ct == PNG_COLOR_TYPE_GRAY ? 1 : ct == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                         : ct == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 3;
        assert_int_equal(pc, want_ch);
    }
}

/* The gray formula at the corners of the range and at its rounding points. */
static void gray_formula(void **s)
{
    (void)s;
    assert_int_equal(fx_gray(255, 255, 255), 255);
    assert_int_equal(fx_gray(0, 0, 0), 0);
    assert_int_equal(fx_gray(255, 0, 0), 76);
    assert_int_equal(fx_gray(0, 255, 0), 150);
    assert_int_equal(fx_gray(0, 0, 255), 29);
    /* gray input replicated to RGB converts back to itself */
    for (int v = 0; v < 256; v++)
        assert_int_equal(fx_gray((uint8_t)v, (uint8_t)v, (uint8_t)v), v);
}

static uint8_t *load(const char *path, size_t *n)
{
    char *b = fx_read_all(path, n);
    assert_non_null(b);
    return (uint8_t *)b;
}

static void corrupt_and_truncated(void **s)
{
    (void)s;
    char path[512];
    uint8_t px[3 * W * H];
    snprintf(path, sizeof path, "%s/good.png", fx_dir);
    assert_int_equal(fx_png_write_case(path, &fx_png_cases[8], W, H, 5, px), 0);
    size_t n;
    uint8_t *png = load(path, &n);
    vbp_error e;
    /* truncated in the middle of the image data */
    int rc = vbp_png_decode_planar(png, n / 2, "cut.png", W, H, 3, px, sizeof px, &e);
    assert_int_equal(rc, VBP_E_INPUT);
    assert_non_null(strstr(e.detail, "cut.png: corrupt PNG (libpng: "));
    /* a flipped byte in IDAT: CRC error (CRCs are checked) */
    uint8_t *bad = malloc(n);
    memcpy(bad, png, n);
    bad[n / 2] ^= 0x40;
    rc = vbp_png_decode_planar(bad, n, "flip.png", W, H, 3, px, sizeof px, &e);
    assert_int_equal(rc, VBP_E_INPUT);
    assert_non_null(strstr(e.detail, "flip.png: corrupt PNG"));
    /* not a PNG at all; empty */
    rc = vbp_png_decode_planar((const uint8_t *)"hello world", 11, "t.txt", W, H, 3, px, sizeof px, &e);
    assert_int_equal(rc, VBP_E_INPUT);
    assert_non_null(strstr(e.detail, "t.txt: "));
    assert_int_equal(vbp_png_decode_planar(png, 0, "e.png", W, H, 1, px, sizeof px, &e),
                     VBP_E_INPUT);
    /* the end of the file (IEND) missing: detected by png_read_end */
    rc = vbp_png_decode_planar(png, n - 12, "noend.png", W, H, 3, px, sizeof px, &e);
    assert_int_equal(rc, VBP_E_INPUT);
    /* unreadable file */
    snprintf(path, sizeof path, "%s/missing.png", fx_dir);
    assert_int_equal(vbp_png_read_planar(path, W, H, 3, px, sizeof px, &e), VBP_E_IO);
    assert_non_null(strstr(e.detail, "missing.png"));
    free(bad);
    free(png);
}

static void wrong_size_names_both(void **s)
{
    (void)s;
    char path[512];
    uint8_t px[3 * W * H];
    snprintf(path, sizeof path, "%s/size.png", fx_dir);
    assert_int_equal(fx_png_write_case(path, &fx_png_cases[8], W, H, 5, px), 0);
    vbp_error e;
    uint8_t big[3 * 64 * 32];
    assert_int_equal(vbp_png_read_planar(path, 64, 32, 3, big, sizeof big, &e), VBP_E_GEOMETRY);
    char want[600];
    snprintf(want, sizeof want, "%s: 37x23, pack geometry is 64x32", path);
    assert_string_equal(e.detail, want);
    /* destination too small and bad channel counts are caller errors */
    assert_int_equal(vbp_png_read_planar(path, W, H, 3, px, sizeof px - 1, &e), VBP_E_ARG);
    assert_int_equal(vbp_png_read_planar(path, W, H, 2, px, sizeof px, &e), VBP_E_ARG);
}

/* The real frames decode as RGB 512x288 and gray equals the formula on the RGB. */
static void real_frame(void **s)
{
    (void)s;
    const char *root = getenv("VBP_REAL_DATA");
    if (!root)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/vballnet/VolleyballShortClip/0.png", root);
    size_t plane = 512 * 288;
    uint8_t *rgb = malloc(3 * plane), *gray = malloc(plane);
    vbp_error e;
    assert_int_equal(vbp_png_read_planar(path, 512, 288, 3, rgb, 3 * plane, &e), VBP_OK);
    assert_int_equal(vbp_png_read_planar(path, 512, 288, 1, gray, plane, &e), VBP_OK);
    size_t nonzero = 0;
    for (size_t p = 0; p < plane; p++) {
        assert_int_equal(gray[p], fx_gray(rgb[p], rgb[plane + p], rgb[2 * plane + p]));
        nonzero += rgb[p] != rgb[plane + p];
    }
    assert_true(nonzero > plane / 10); /* really colour */
    free(rgb);
    free(gray);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_colour_type),
        cmocka_unit_test(gray_formula),
        cmocka_unit_test(corrupt_and_truncated),
        cmocka_unit_test(wrong_size_names_both),
        cmocka_unit_test(real_frame),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

/* test_png_write.c - vbp_png_write_planar: round trip, atomicity, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "vbp_image.h"
#include "png_test_read.h"

static void round_trip(uint32_t channels, uint32_t w, uint32_t h)
{
    size_t n = (size_t)channels * w * h;
    uint8_t *img = malloc(n);
    assert_non_null(img);
    for (size_t i = 0; i < n; i++)
        img[i] = (uint8_t)(i * 2654435761u >> 13); /* every channel differs */
    char path[512];
    snprintf(path, sizeof path, "%s/img_%u.png", fx_dir, channels);
    vbp_error err;
    assert_int_equal(vbp_png_write_planar(path, img, w, h, channels, &err), VBP_OK);
    uint32_t rw = 0, rh = 0;
    uint8_t *back = test_png_load(path, channels, &rw, &rh);
    assert_non_null(back);
    assert_int_equal(rw, w);
    assert_int_equal(rh, h);
    assert_memory_equal(back, img, n);
    free(back);
    free(img);
}

static void gray_round_trip(void **state)
{
    (void)state;
    round_trip(1, 37, 5);
}

static void rgb_round_trip(void **state)
{
    (void)state;
    round_trip(3, 64, 9);
}

static void overwrite_replaces_and_leaves_no_temp(void **state)
{
    (void)state;
    uint8_t a[12] = {0}, b[12];
    memset(b, 200, sizeof b);
    char path[512];
    snprintf(path, sizeof path, "%s/over.png", fx_dir);
    assert_int_equal(vbp_png_write_planar(path, a, 4, 3, 1, NULL), VBP_OK);
    assert_int_equal(vbp_png_write_planar(path, b, 4, 3, 1, NULL), VBP_OK);
    uint32_t w = 0, h = 0;
    uint8_t *back = test_png_load(path, 1, &w, &h);
    assert_non_null(back);
    assert_memory_equal(back, b, sizeof b);
    free(back);
    assert_int_equal(fx_entries(fx_dir), 1);
}

static void missing_directory_is_io_error(void **state)
{
    (void)state;
    uint8_t px[4] = {1, 2, 3, 4};
    char path[512];
    snprintf(path, sizeof path, "%s/no_such_dir/x.png", fx_dir);
    vbp_error err;
    assert_int_equal(vbp_png_write_planar(path, px, 2, 2, 1, &err), VBP_E_IO);
    assert_int_equal(err.code, VBP_E_IO);
    assert_non_null(strstr(err.detail, path));
    assert_null(strchr(err.detail, '\n'));
    assert_int_equal(fx_entries(fx_dir), 0);
}

/* The rename fails when the target is a directory: the finished temporary file must go. */
static void failed_rename_leaves_nothing(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/target.png", fx_dir);
    assert_int_equal(mkdir(path, 0755), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/keep", path);
    FILE *f = fopen(inner, "w"); /* non-empty, so rename(2) cannot replace it */
    assert_non_null(f);
    fclose(f);
    uint8_t px[3] = {9, 8, 7};
    vbp_error err;
    assert_int_equal(vbp_png_write_planar(path, px, 1, 1, 3, &err), VBP_E_IO);
    assert_non_null(strstr(err.detail, path));
    assert_int_equal(fx_entries(fx_dir), 1); /* only the directory itself */
    remove(inner);
    rmdir(path);
}

static void bad_arguments_are_rejected(void **state)
{
    (void)state;
    uint8_t px[4] = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/bad.png", fx_dir);
    assert_int_equal(vbp_png_write_planar(path, px, 2, 2, 2, NULL), VBP_E_ARG);
    assert_int_equal(vbp_png_write_planar(path, px, 0, 2, 1, NULL), VBP_E_ARG);
    assert_int_equal(fx_entries(fx_dir), 0);
}

int main(void)
{
#define each(t) cmocka_unit_test_setup_teardown(t, fx_group_setup, fx_group_teardown)
    const struct CMUnitTest tests[] = {
        each(gray_round_trip),
        each(rgb_round_trip),
        each(overwrite_replaces_and_leaves_no_temp),
        each(missing_directory_is_io_error),
        each(failed_rename_leaves_nothing),
        each(bad_arguments_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

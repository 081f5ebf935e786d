/*
 * test_png_reference.c - src/image/png_read.c against OpenCV (Debian python3-opencv):
 * the synthetic PNGs of every colour type and every real frame and heatmap in
 * VBP_REAL_DATA are decoded here as RGB and gray, and tests/ref_png_cv2.py
 * compares them with cv2.imread + cv2.cvtColor(RGB2GRAY).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "input_fixture.h"
#include "vbp_image.h"

static char *tmp;
static FILE *list;
static size_t listed;

/* Decode path with our reader and add it to the list for the python side. */
static void add(const char *path, uint32_t w, uint32_t h)
{
    size_t plane = (size_t)w * h;
    uint8_t *rgb = malloc(3 * plane), *gray = malloc(plane);
    vbp_error e;
    assert_non_null(rgb);
    assert_non_null(gray);
    if (vbp_png_read_planar(path, w, h, 3, rgb, 3 * plane, &e) != VBP_OK ||
        vbp_png_read_planar(path, w, h, 1, gray, plane, &e) != VBP_OK)
        fail_msg("%s", e.detail);
    char rp[600], gp[600];
    snprintf(rp, sizeof rp, "%s/%zu.rgb", tmp, listed);
    snprintf(gp, sizeof gp, "%s/%zu.gray", tmp, listed);
    FILE *f = fopen(rp, "wb"), *g = fopen(gp, "wb");
    assert_non_null(f);
    assert_non_null(g);
    assert_int_equal(fwrite(rgb, 1, 3 * plane, f), 3 * plane);
    assert_int_equal(fwrite(gray, 1, plane, g), plane);
    fclose(f);
    fclose(g);
    fprintf(list, "%s\t%u\t%u\t%s\t%s\n", path, w, h, rp, gp);
    listed++;
    free(rgb);
    free(gray);
}

/* Every *.png directly in dir. */
static void add_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char path[2048];
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".png"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        add(path, 512, 288);
    }
    closedir(d);
}

static void matches_opencv(void **s)
{
    (void)s;
    tmp = fx_tmpdir();
    assert_non_null(tmp);
    char lp[600], path[1024];
    snprintf(lp, sizeof lp, "%s/list.tsv", tmp);
    list = fopen(lp, "w");
    assert_non_null(list);
    uint8_t *rgb = malloc(3 * 61 * 45);
    for (size_t i = 0; i < fx_png_case_count; i++) {
        snprintf(path, sizeof path, "%s/%s.png", tmp, fx_png_cases[i].name);
        assert_int_equal(fx_png_write_case(path, &fx_png_cases[i], 61, 45, (uint32_t)i + 100, rgb), 0);
        add(path, 61, 45);
    }
    free(rgb);
    const char *real = getenv("VBP_REAL_DATA");
    assert_non_null(real);
    static const char *const dirs[] = {
        "vballnet/VolleyballShortClip",
        "tracknetv4/match_volleyball/heatmaps/VolleyballShortClip",
        "tracknetv4/match_badminton/inputs/00039",
        "tracknetv4/match_badminton/heatmaps/00039",
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", real, dirs[i]);
        add_dir(path);
    }
    fclose(list);
    assert_true(listed > fx_png_case_count + 200);
    const char *py = getenv("VBP_PYTHON"), *src = getenv("VBP_SOURCE_DIR");
    assert_non_null(py);
    assert_non_null(src);
    char script[1024], out[600], err[600];
    snprintf(script, sizeof script, "%s/tests/ref_png_cv2.py", src);
    snprintf(out, sizeof out, "%s/py.out", tmp);
    snprintf(err, sizeof err, "%s/py.err", tmp);
    char *argv[] = {(char *)py, script, lp, NULL};
    int rc = fx_run(argv, out, err);
    char *o = fx_read_all(out, NULL), *e = fx_read_all(err, NULL);
    printf("%s%s", o ? o : "", e ? e : "");
    free(o);
    free(e);
    fx_rmtree(tmp);
    assert_int_equal(rc, 0);
}

int main(void)
{
    /* SKIPPED rule (HELPERS.md): no OpenCV is a failure unless VBP_SKIP_REFERENCE=1. */
    const char *py = getenv("VBP_PYTHON");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import cv2, numpy' 2>/dev/null", py ? py : "python3");
    if (system(cmd) != 0) {
        const char *skip = getenv("VBP_SKIP_REFERENCE");
        if (skip && !strcmp(skip, "1")) {
            printf("SKIPPED: OpenCV (python3-opencv) not importable by %s\n", py ? py : "python3");
            return 77;
        }
        fprintf(stderr, "FAIL: %s cannot import cv2/numpy; install python3-opencv "
                        "(or set VBP_SKIP_REFERENCE=1)\n", py ? py : "python3");
        return 1;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(matches_opencv)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_scan.c - src/pack/dataset_scan.c: both layouts, ordering, and every structural error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "vbp_dataset.h"
#include "input_fixture.h"

static char path[4096];

static const char *p(const char *fmt, const char *a, const char *b)
{
    char rel[1024];
    snprintf(rel, sizeof rel, fmt, a, b);
    snprintf(path, sizeof path, "%s/%s", fx_dir, rel);
    return path;
}

/* A TrackNetV4 clip under root/match with n frames (csv when with_csv). */
static void tn_clip(const char *root, const char *match, const char *clip, uint32_t n, int with_csv)
{
    char f[4096], h[4096], c[4096], m[2048];
    snprintf(m, sizeof m, "%s/%s", root, match);
    snprintf(f, sizeof f, "%s/%s/inputs/%s", fx_dir, m, clip);
    snprintf(h, sizeof h, "%s/%s/heatmaps/%s", fx_dir, m, clip);
    snprintf(c, sizeof c, "%s/%s/csv", fx_dir, m);
    assert_int_equal(fx_mkdirs(c), 0);
    snprintf(c, sizeof c, "%s/%s/csv/%s_ball.csv", fx_dir, m, clip);
    assert_int_equal(fx_make_clip(f, h, with_csv ? c : NULL, n, 8, 4, 1), 0);
}

static void vb_clip(const char *root, const char *clip, uint32_t n)
{
    char f[4096], c[4096];
    snprintf(f, sizeof f, "%s/%s/%s", fx_dir, root, clip);
    snprintf(c, sizeof c, "%s/%s/%s_ball.csv", fx_dir, root, clip);
    assert_int_equal(fx_make_clip(f, NULL, c, n, 8, 4, 2), 0);
}

static void tracknetv4_layout(void **s)
{
    (void)s;
    tn_clip("tn", "m2", "b", 2, 0);
    tn_clip("tn", "m1", "c", 12, 1);
    tn_clip("tn", "m1", "a", 3, 0);
    assert_int_equal(fx_mkdirs(p("tn/notes", "", "")), 0); /* no inputs/: ignored */
    vbp_dataset ds = {0};
    vbp_layout used;
    vbp_error e;
    assert_int_equal(vbp_dataset_scan(&ds, p("tn", "", ""), VBP_LAYOUT_AUTO, VBP_SPLIT_VAL, &used, &e),
                     VBP_OK);
    assert_int_equal(used, VBP_LAYOUT_TRACKNETV4);
    assert_int_equal(ds.count, 3);
    assert_string_equal(ds.clips[0].group, "m1");
    assert_string_equal(ds.clips[0].name, "a");
    assert_string_equal(ds.clips[1].name, "c");
    assert_string_equal(ds.clips[2].group, "m2");
    assert_int_equal(ds.clips[1].frame_count, 12);
    assert_int_equal(ds.clips[1].split, VBP_SPLIT_VAL);
    /* numeric order: 9 before 10 */
    assert_non_null(strstr(ds.clips[1].frames[9], "/inputs/c/9.png"));
    assert_non_null(strstr(ds.clips[1].frames[10], "/inputs/c/10.png"));
    assert_non_null(strstr(ds.clips[1].heatmaps[11], "/heatmaps/c/11.png"));
    assert_null(ds.clips[0].labels);
    assert_non_null(ds.clips[1].labels);
    assert_int_equal(ds.clips[1].labels[1].visibility, 1);
    vbp_dataset_free(&ds);
    /* a single match directory as the root: its name is the group */
    assert_int_equal(vbp_dataset_scan(&ds, p("tn/m2/", "", ""), VBP_LAYOUT_AUTO, 0, &used, &e), VBP_OK);
    assert_int_equal(ds.count, 1);
    assert_string_equal(ds.clips[0].group, "m2");
    vbp_dataset_free(&ds);
}

static void vballnet_layout(void **s)
{
    (void)s;
    vb_clip("vb", "rally2", 4);
    vb_clip("vb", "rally1", 11);
    vbp_dataset ds = {0};
    vbp_layout used;
    vbp_error e;
    assert_int_equal(vbp_dataset_scan(&ds, p("vb", "", ""), VBP_LAYOUT_AUTO, 0, &used, &e), VBP_OK);
    assert_int_equal(used, VBP_LAYOUT_VBALLNET);
    assert_int_equal(ds.count, 2);
    assert_string_equal(ds.clips[0].name, "rally1");
    assert_string_equal(ds.clips[0].group, "");
    assert_null(ds.clips[0].heatmaps);
    assert_non_null(ds.clips[0].labels);
    assert_int_equal(ds.clips[0].frame_count, 11);
    vbp_dataset_free(&ds);
    /* forcing the other layout finds nothing and says so */
    assert_int_equal(vbp_dataset_scan(&ds, p("vb", "", ""), VBP_LAYOUT_TRACKNETV4, 0, NULL, &e),
                     VBP_E_INPUT);
    assert_non_null(strstr(e.detail, "no clips"));
    vbp_dataset_free(&ds);
}

/* Scan root, expect VBP_E_INPUT whose detail starts with fx_dir/<want_path> and contains want. */
static void expect_error(const char *root, vbp_layout layout, const char *want_path, const char *want)
{
    vbp_dataset ds = {0};
    vbp_error e;
    char r[4096], wp[4096];
    snprintf(r, sizeof r, "%s/%s", fx_dir, root);
    snprintf(wp, sizeof wp, "%s/%s", fx_dir, want_path);
    int rc = vbp_dataset_scan(&ds, r, layout, 0, NULL, &e);
    vbp_dataset_free(&ds);
    if (rc != VBP_E_INPUT || strncmp(e.detail, wp, strlen(wp)) != 0 || !strstr(e.detail, want))
        fail_msg("%s: rc %d '%s' (want '%s' ... '%s')", root, rc, e.detail, wp, want);
}

static void structural_errors(void **s)
{
    (void)s;
    tn_clip("gap", "m", "c", 5, 0);
    assert_int_equal(unlink(p("gap/m/inputs/c/3.png", "", "")), 0);
    expect_error("gap", VBP_LAYOUT_AUTO, "gap/m/inputs/c:", "frame 3 is missing");

    tn_clip("count", "m", "c", 5, 0);
    assert_int_equal(unlink(p("count/m/heatmaps/c/4.png", "", "")), 0);
    expect_error("count", VBP_LAYOUT_AUTO, "count/m/heatmaps/c:", "4 heatmaps for 5 frames");

    tn_clip("nohm", "m", "c", 2, 0);
    assert_int_equal(fx_rmtree_keep(p("nohm/m/heatmaps", "", "")), 0);
    expect_error("nohm", VBP_LAYOUT_AUTO, "nohm/m/heatmaps/c:", "heatmap directory missing");

    tn_clip("dup", "m", "c", 3, 0);
    assert_int_equal(fx_write_text(p("dup/m/inputs/c/01.png", "", ""), "x"), 0);
    expect_error("dup", VBP_LAYOUT_AUTO, "dup/m/inputs/c:", "frame 1 appears twice");

    tn_clip("name", "m", "c", 3, 0);
    assert_int_equal(fx_write_text(p("name/m/inputs/c/frame_7.png", "", ""), "x"), 0);
    expect_error("name", VBP_LAYOUT_AUTO, "name/m/inputs/c/frame_7.png:", "not <N>.png");

    tn_clip("long", "m", "a_clip_name_that_is_far_too_long_for_the_sixty_three_byte_limit_x", 1, 0);
    expect_error("long", VBP_LAYOUT_AUTO, "long/m/inputs/a_clip", "is 65 bytes, the pack format allows at most 63");

    tn_clip("rows", "m", "c", 3, 1);
    assert_int_equal(fx_write_text(p("rows/m/csv/c_ball.csv", "", ""),
                                   "Frame,Visibility,X,Y\n0,1,1,1\n1,1,1,1\n2,1,1,1\n3,1,1,1\n"), 0);
    expect_error("rows", VBP_LAYOUT_AUTO, "rows/m/csv/c_ball.csv:", "4 label rows for 3 frames");

    tn_clip("badrow", "m", "c", 3, 1);
    assert_int_equal(fx_write_text(p("badrow/m/csv/c_ball.csv", "", ""),
                                   "Frame,Visibility,X,Y\n0,1,1,1\n1,1,x,1\n2,1,1,1\n"), 0);
    expect_error("badrow", VBP_LAYOUT_AUTO, "badrow/m/csv/c_ball.csv:3:", "X is not a number");

    vb_clip("nocsv", "c", 2);
    assert_int_equal(unlink(p("nocsv/c_ball.csv", "", "")), 0);
    expect_error("nocsv", VBP_LAYOUT_AUTO, "nocsv/c_ball.csv:", "labels CSV missing");

    assert_int_equal(fx_mkdirs(p("empty/sub", "", "")), 0);
    expect_error("empty", VBP_LAYOUT_AUTO, "empty:", "no clips");
    assert_int_equal(fx_mkdirs(p("emptyclip/m/inputs/c", "", "")), 0);
    assert_int_equal(fx_mkdirs(p("emptyclip/m/heatmaps/c", "", "")), 0);
    expect_error("emptyclip", VBP_LAYOUT_AUTO, "emptyclip/m/inputs/c:", "no frame PNGs");

    vbp_dataset ds = {0};
    vbp_error e;
    assert_int_equal(vbp_dataset_scan(&ds, p("does-not-exist", "", ""), 0, 0, NULL, &e), VBP_E_IO);
    assert_non_null(strstr(e.detail, "does-not-exist: not a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tracknetv4_layout),
        cmocka_unit_test(vballnet_layout),
        cmocka_unit_test(structural_errors),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

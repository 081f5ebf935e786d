/* test_csv.c - src/pack/labels_csv.c: strict `Frame,Visibility,X,Y` (and `Frame,Ball,x,y`) parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "input_fixture.h"
#include "labels_csv.h"

/* Write text as fx_dir/name and parse it. */
static int parse(const char *name, const char *text, vbp_label **l, size_t *n, vbp_error *e,
                 char *path, size_t pathsize)
{
    snprintf(path, pathsize, "%s/%s", fx_dir, name);
    assert_int_equal(fx_write_text(path, text), 0);
    *l = NULL;
    return vbp_labels_read_csv(path, VBP_LABELS_PIXELS, l, n, NULL, e);
}

static void good_file(void **s)
{
    (void)s;
    vbp_label *l;
    size_t n;
    vbp_error e;
    char path[600];
    const char *text = "Frame,Visibility,X,Y\r\n0,1,224,183\r\n1,0,0,0\n2,1,12.5,-3\n3,0,-1,-1";
    assert_int_equal(parse("good.csv", text, &l, &n, &e, path, sizeof path), VBP_OK);
    assert_int_equal(n, 4);
    assert_int_equal(l[0].visibility, 1);
    assert_true(l[0].x == 224.0f && l[0].y == 183.0f);
    /* hidden balls are stored as (-1,-1) whatever the file says */
    assert_int_equal(l[1].visibility, 0);
    assert_true(l[1].x == -1.0f && l[1].y == -1.0f);
    assert_true(l[2].x == 12.5f && l[2].y == -3.0f);
    assert_int_equal(l[3].visibility, 0);
    free(l);
    /* header only: zero rows */
    assert_int_equal(parse("empty_rows.csv", "Frame,Visibility,X,Y\n", &l, &n, &e, path, sizeof path),
                     VBP_OK);
    assert_int_equal(n, 0);
    free(l);
}

static void real_csv(void **s)
{
    (void)s;
    const char *root = getenv("VBP_REAL_DATA");
    if (!root)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/vballnet/VolleyballShortClip_ball.csv", root);
    vbp_label *l;
    size_t n;
    vbp_error e;
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_PIXELS, &l, &n, NULL, &e), VBP_OK);
    assert_int_equal(n, 21);
    assert_int_equal(l[0].visibility, 1);
    assert_true(l[0].x == 224.0f && l[0].y == 183.0f);
    free(l);
}

/* Each bad file fails with VBP_E_INPUT and "FILE:LINE: problem". */
static void bad_files(void **s)
{
    (void)s;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"", ": empty file"},
        {"frame,visibility,x,y\n0,1,2,3\n", ":1: header must be 'Frame,Visibility,X,Y'"},
        {"Frame,Visibility,X,Y,Z\n", ":1: header"},
        {"Frame,Visibility,X,Y\n0,1,2,3\n1,1,abc,3\n", ":3: X is not a number"},
        {"Frame,Visibility,X,Y\n0,1,2\n", ":2: missing columns"},
        {"Frame,Visibility,X,Y\n0,1,2,3,4\n", ":2: extra columns"},
        {"Frame,Visibility,X,Y\n0,1,2,3\n2,1,2,3\n", ":3: Frame must be 1"},
        {"Frame,Visibility,X,Y\n1,1,2,3\n", ":2: Frame must be 0"},
        {"Frame,Visibility,X,Y\n0,2,2,3\n", ":2: Visibility must be 0 or 1"},
        {"Frame,Visibility,X,Y\n0,1,2,3\n\n1,1,2,3\n", ":3: Frame is not a number"},
        {"Frame,Visibility,X,Y\n0,1,nan,3\n", ":2: X is not a number"},
        {"Frame,Visibility,X,Y\n0,1,2, 3\n", ":2: Y is not a number"},
        {"Frame,Visibility,X,Y\n0,1,2,1e999\n", ":2: Y is not a number"},
        {"Frame,Visibility,X,Y\n0.5,1,2,3\n", ":2: Frame must be 0"},
        /* found by fuzz_csv: finite as a double, infinite as the stored float */
        {"Frame,Visibility,X,Y\n0,1,5.1e38,28\n", ":2: X does not fit a float"},
        {"Frame,Visibility,X,Y\n0,0,1,-1e300\n", ":2: Y does not fit a float"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vbp_label *l;
        size_t n;
        vbp_error e;
        char path[600], name[32], want[800];
        snprintf(name, sizeof name, "bad%zu.csv", i);
        int rc = parse(name, cases[i].text, &l, &n, &e, path, sizeof path);
        if (rc != VBP_E_INPUT)
            fail_msg("case %zu: rc %d", i, rc);
        snprintf(want, sizeof want, "%s%s", path, cases[i].want);
        if (strncmp(e.detail, want, strlen(want)) != 0)
            fail_msg("case %zu: got '%s', want prefix '%s'", i, e.detail, want);
        assert_null(l);
    }
    vbp_label *l;
    size_t n;
    vbp_error e;
    char path[600];
    snprintf(path, sizeof path, "%s/none.csv", fx_dir);
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_PIXELS, &l, &n, NULL, &e), VBP_E_IO);
    assert_non_null(strstr(e.detail, "none.csv"));
}

/* TrackNetV3's `Frame,Ball,x,y` (fractions), accepted only when asked for; the real raw clips. */
static void fraction_header(void **s)
{
    (void)s;
    char path[600];
    vbp_label *l;
    size_t n;
    unsigned units = 0;
    vbp_error e;
    snprintf(path, sizeof path, "%s/v3.csv", fx_dir);
    assert_int_equal(fx_write_text(path, "Frame,Ball,x,y\n0,0,-1.000,-1.000\n1,1,0.518,0.379\n"
                                         "2,3,0.5,0.5\n"), 0);
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_PIXELS, &l, &n, NULL, &e), VBP_E_INPUT);
    assert_non_null(strstr(e.detail, ":1: header must be 'Frame,Visibility,X,Y'"));
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_PIXELS | VBP_LABELS_FRACTIONS, &l, &n,
                                         &units, &e), VBP_E_INPUT);
    assert_non_null(strstr(e.detail, "v3.csv:4: Ball must be 0 or 1"));
    assert_int_equal(fx_write_text(path, "Frame,Ball,x,y\n0,0,-1.000,-1.000\n1,1,0.518,0.379\n"), 0);
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_PIXELS | VBP_LABELS_FRACTIONS, &l, &n,
                                         &units, &e), VBP_OK);
    assert_int_equal(units, VBP_LABELS_FRACTIONS);
    assert_int_equal(n, 2);
    assert_true(l[0].visibility == 0 && l[0].x == -1.0f);
    assert_true(l[1].visibility == 1 && l[1].x == 0.518f && l[1].y == 0.379f);
    free(l);
    /* and the pixel header still reports its units */
    assert_int_equal(fx_write_text(path, "Frame,Visibility,X,Y\n0,1,3,4\n"), 0);
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_PIXELS | VBP_LABELS_FRACTIONS, &l, &n,
                                         &units, &e), VBP_OK);
    assert_int_equal(units, VBP_LABELS_PIXELS);
    free(l);
    const char *root = getenv("VBP_REAL_DATA");
    if (!root)
        return;
    snprintf(path, sizeof path, "%s/tracknetv3-raw2/00013.csv", root);
    assert_int_equal(vbp_labels_read_csv(path, VBP_LABELS_FRACTIONS, &l, &n, &units, &e), VBP_OK);
    assert_int_equal(n, 81);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_file),
        cmocka_unit_test(fraction_header),
        cmocka_unit_test(real_csv),
        cmocka_unit_test(bad_files),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

/* test_metrics.c - largest-blob detection, ground truth, outcomes and scores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "vbp_metrics.h"

#define H 12
#define W 16

static vbp_detector *det_new(void)
{
    vbp_detector *d = NULL;
    assert_int_equal(vbp_detector_create(H, W, &d, NULL), VBP_OK);
    return d;
}

static void fill(float *img, int x0, int y0, int w, int h, float v)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            img[y * W + x] = v;
}

static void empty_and_threshold(void **state)
{
    (void)state;
    vbp_detector *d = det_new();
    float img[H * W] = { 0 };
    vbp_detection r = vbp_detect(d, img, 0.5f);
    assert_int_equal(r.visible, 0);
    assert_true(r.x == -1.0f && r.y == -1.0f);
    fill(img, 3, 3, 2, 2, 0.5f); /* exactly the threshold: not above it */
    assert_int_equal(vbp_detect(d, img, 0.5f).visible, 0);
    img[3 * W + 3] = 0.5001f;
    r = vbp_detect(d, img, 0.5f);
    assert_int_equal(r.visible, 1);
    assert_true(r.x == 3.0f && r.y == 3.0f);
    vbp_detector_free(d);
    assert_int_equal(vbp_detector_create(0, W, &d, NULL), VBP_E_ARG);
}

static void centroid_of_largest_blob(void **state)
{
    (void)state;
    vbp_detector *d = det_new();
    float img[H * W] = { 0 };
    fill(img, 0, 0, 2, 2, 0.9f);    /* 4 pixels at a corner, centroid (0.5, 0.5) */
    fill(img, 10, 5, 3, 2, 0.7f);   /* 6 pixels: the largest, centroid (11, 5.5) */
    fill(img, 14, 10, 1, 1, 1.0f);  /* the brightest, but 1 pixel */
    vbp_detection r = vbp_detect(d, img, 0.5f);
    assert_int_equal(r.visible, 1);
    assert_float_equal(r.x, 11.0f, 1e-6f);
    assert_float_equal(r.y, 5.5f, 1e-6f);
    vbp_detector_free(d);
}

static void eight_connectivity_and_ties(void **state)
{
    (void)state;
    vbp_detector *d = det_new();
    float img[H * W] = { 0 };
    /* A diagonal of 4 pixels is one blob under 8-connectivity: it beats a 3-pixel row. */
    for (int i = 0; i < 4; i++)
        img[(2 + i) * W + 2 + i] = 1.0f;
    fill(img, 10, 9, 3, 1, 1.0f);
    vbp_detection r = vbp_detect(d, img, 0.5f);
    assert_float_equal(r.x, 3.5f, 1e-6f);
    assert_float_equal(r.y, 3.5f, 1e-6f);
    /* Equal sizes: the first blob in raster order wins.  Blobs touch the right and bottom edges. */
    memset(img, 0, sizeof img);
    fill(img, 13, 0, 3, 1, 1.0f);
    fill(img, 0, 11, 3, 1, 1.0f);
    r = vbp_detect(d, img, 0.5f);
    assert_float_equal(r.x, 14.0f, 1e-6f);
    assert_float_equal(r.y, 0.0f, 1e-6f);
    /* The scratch is reset between calls: the same image gives the same answer. */
    vbp_detection again = vbp_detect(d, img, 0.5f);
    assert_memory_equal(&r, &again, sizeof r);
    vbp_detector_free(d);
}

static void truth_prefers_label(void **state)
{
    (void)state;
    vbp_detector *d = det_new();
    float target[H * W] = { 0 };
    fill(target, 4, 4, 3, 3, 1.0f); /* heatmap blob at (5,5) */
    vbp_label visible = { 1, 9.0f, 2.0f }, hidden = { 0, -1.0f, -1.0f }, none = { VBP_NO_LABEL, 0, 0 };
    vbp_detection t = vbp_truth(d, &visible, target);
    assert_true(t.visible && t.x == 9.0f && t.y == 2.0f);
    t = vbp_truth(d, &hidden, target);
    assert_int_equal(t.visible, 0);
    t = vbp_truth(d, &none, target);
    assert_true(t.visible && t.x == 5.0f && t.y == 5.0f);
    t = vbp_truth(d, NULL, target);
    assert_true(t.visible && t.x == 5.0f);
    vbp_detector_free(d);
}

static void outcomes(void **state)
{
    (void)state;
    vbp_detection none = { 0, -1, -1 }, at = { 1, 10, 10 }, near = { 1, 13, 14 }, far = { 1, 13, 14.01f };
    assert_int_equal(vbp_classify(&none, &none, 4), VBP_TN);
    assert_int_equal(vbp_classify(&none, &at, 4), VBP_FP2);
    assert_int_equal(vbp_classify(&at, &none, 4), VBP_FN);
    assert_int_equal(vbp_classify(&at, &near, 4), VBP_FP1); /* distance exactly 5 */
    assert_int_equal(vbp_classify(&at, &near, 5), VBP_TP);
    assert_int_equal(vbp_classify(&at, &near, 4.99f), VBP_FP1);
    assert_int_equal(vbp_classify(&at, &far, 5), VBP_FP1);
    assert_string_equal(vbp_outcome_name(VBP_FP1), "FP1");
    assert_string_equal(vbp_outcome_name(VBP_FN), "FN");
}

static void scores(void **state)
{
    (void)state;
    vbp_counts c;
    memset(&c, 0, sizeof c);
    vbp_scores s = vbp_counts_scores(&c);
    assert_true(s.precision == 0.0 && s.recall == 0.0 && s.f1 == 0.0 && s.accuracy == 0.0);
    const vbp_outcome seq[] = { VBP_TP, VBP_TP, VBP_TP, VBP_TP, VBP_TP, VBP_TP, VBP_TN, VBP_TN,
                                VBP_FP1, VBP_FP2, VBP_FN, VBP_FN };
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++)
        vbp_counts_add(&c, seq[i]);
    assert_int_equal(c.tp, 6);
    assert_int_equal(c.tn, 2);
    assert_int_equal(c.fp1, 1);
    assert_int_equal(c.fp2, 1);
    assert_int_equal(c.fn, 2);
    assert_int_equal(vbp_counts_total(&c), 12);
    s = vbp_counts_scores(&c);
    assert_float_equal(s.precision, 6.0 / 8.0, 1e-12);
    assert_float_equal(s.recall, 6.0 / 8.0, 1e-12);
    assert_float_equal(s.f1, 0.75, 1e-12);
    assert_float_equal(s.accuracy, 8.0 / 12.0, 1e-12);
    /* Only negatives: precision and recall have zero denominators. */
    memset(&c, 0, sizeof c);
    c.tn = 3;
    c.fp2 = 1;
    s = vbp_counts_scores(&c);
    assert_true(s.precision == 0.0 && s.recall == 0.0 && s.f1 == 0.0);
    assert_float_equal(s.accuracy, 0.75, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_and_threshold),
        cmocka_unit_test(centroid_of_largest_blob),
        cmocka_unit_test(eight_connectivity_and_ties),
        cmocka_unit_test(truth_prefers_label),
        cmocka_unit_test(outcomes),
        cmocka_unit_test(scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * vbp_metrics.h - per-frame ball detection from a heatmap and the TrackNet
 * detection metrics (TP, TN, FP1, FP2, FN, precision, recall, F1, accuracy).
 *
 * Detection: pixels whose value is > threshold (0.5 for probabilities) form
 * blobs under 8-connectivity; the ball is the centroid (mean x, mean y of
 * the pixel centres' integer coordinates) of the largest blob, the first one
 * in raster order on a tie.  No pixel above the threshold: no ball.
 *
 * Outcome of one frame, truth vs prediction, tolerance tol pixels:
 *   TN  no ball, none predicted        FP2 no ball, one predicted
 *   FN  ball, none predicted           TP  both, distance <= tol
 *   FP1 both, distance > tol
 * precision = TP/(TP+FP1+FP2), recall = TP/(TP+FN), F1 = 2PR/(P+R),
 * accuracy = (TP+TN)/all; a zero denominator gives 0.
 */
#ifndef VBP_METRICS_H
#define VBP_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"
#include "vbp_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vbp_detection {
    int visible;   /* 1 when a ball is there */
    float x, y;    /* pixels; -1, -1 when not visible */
} vbp_detection;

typedef enum vbp_outcome {
    VBP_TP = 0, VBP_TN = 1, VBP_FP1 = 2, VBP_FP2 = 3, VBP_FN = 4
} vbp_outcome;

typedef struct vbp_counts {
    uint64_t tp, tn, fp1, fp2, fn;
} vbp_counts;

typedef struct vbp_scores {
    double precision, recall, f1, accuracy;
} vbp_scores;

/* Blob labelling scratch for one heatmap size (no allocation per frame). */
typedef struct vbp_detector vbp_detector;

/* VBP_E_ARG for a zero size, VBP_E_NOMEM. */
int vbp_detector_create(uint32_t height, uint32_t width, vbp_detector **out, vbp_error *err);
void vbp_detector_free(vbp_detector *d);

/* The threshold of every tool's detections unless told otherwise (vbtrain --threshold). */
#define VBP_DETECT_THRESHOLD 0.5f

/* Detect the ball in heat (height x width floats, row-major) as described above. */
vbp_detection vbp_detect(vbp_detector *d, const float *heat, float threshold);

/*
 * Ground truth of a frame: its label when the pack has one (visibility not
 * VBP_NO_LABEL), else vbp_detect on the target heatmap (values in [0,1]) at
 * threshold 0.5.  A label with visibility != 0 is a visible ball at (x, y).
 */
vbp_detection vbp_truth(vbp_detector *d, const vbp_label *label, const float *target);

/* Classify one frame; tol in pixels (Euclidean distance). */
vbp_outcome vbp_classify(const vbp_detection *truth, const vbp_detection *pred, float tol);

void vbp_counts_add(vbp_counts *c, vbp_outcome o);
uint64_t vbp_counts_total(const vbp_counts *c);
vbp_scores vbp_counts_scores(const vbp_counts *c);
const char *vbp_outcome_name(vbp_outcome o); /* "TP", "TN", "FP1", "FP2", "FN" */

#ifdef __cplusplus
}
#endif
#endif

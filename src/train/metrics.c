/* metrics.c - largest-blob ball detection and the TrackNet detection metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "vbp_metrics.h"

struct vbp_detector {
    uint32_t height, width;
    uint8_t *seen;   /* height*width: pixel already assigned to a blob */
    uint32_t *stack; /* flood-fill stack: each pixel is pushed at most once */
};

int vbp_detector_create(uint32_t height, uint32_t width, vbp_detector **out, vbp_error *err)
{
    *out = NULL;
    if (!height || !width)
        return vbp_fail(err, VBP_E_ARG, "detector: empty heatmap size %ux%u", width, height);
    size_t n = (size_t)height * width;
    vbp_detector *d = calloc(1, sizeof *d);
    if (d) {
        d->seen = malloc(n);
        d->stack = malloc(n * sizeof *d->stack);
    }
    if (!d || !d->seen || !d->stack) {
        vbp_detector_free(d);
        return vbp_fail(err, VBP_E_NOMEM, "detector: cannot allocate %zu bytes", n * 5);
    }
    d->height = height;
    d->width = width;
    *out = d;
    return VBP_OK;
}

void vbp_detector_free(vbp_detector *d)
{
    if (!d)
        return;
    free(d->seen);
    free(d->stack);
    free(d);
}

vbp_detection vbp_detect(vbp_detector *d, const float *heat, float threshold)
{
    const uint32_t H = d->height, W = d->width;
    vbp_detection best = { 0, -1.0f, -1.0f };
    uint64_t best_count = 0;
    memset(d->seen, 0, (size_t)H * W);
    for (size_t start = 0; start < (size_t)H * W; start++) {
        if (d->seen[start] || !(heat[start] > threshold))
            continue;
        uint64_t count = 0;
        double sx = 0.0, sy = 0.0;
        size_t top = 0;
        d->seen[start] = 1;
        d->stack[top++] = (uint32_t)start;
        while (top) {
            uint32_t p = d->stack[--top];
            uint32_t py = p / W, px = p % W;
            count++;
            sx += px;
            sy += py;
            for (int dy = -1; dy <= 1; dy++) {
                int64_t ny = (int64_t)py + dy;
                if (ny < 0 || ny >= H)
                    continue;
                for (int dx = -1; dx <= 1; dx++) {
                    int64_t nx = (int64_t)px + dx;
                    if (nx < 0 || nx >= W)
                        continue;
                    size_t q = (size_t)ny * W + (size_t)nx;
                    if (!d->seen[q] && heat[q] > threshold) {
                        d->seen[q] = 1;
                        d->stack[top++] = (uint32_t)q;
                    }
                }
            }
        }
        if (count > best_count) {
            best_count = count;
            best.visible = 1;
            best.x = (float)(sx / (double)count);
            best.y = (float)(sy / (double)count);
        }
    }
    return best;
}

vbp_detection vbp_truth(vbp_detector *d, const vbp_label *label, const float *target)
{
    if (label && label->visibility != VBP_NO_LABEL) {
        vbp_detection t = { 0, -1.0f, -1.0f };
        if (label->visibility) {
            t.visible = 1;
            t.x = label->x;
            t.y = label->y;
        }
        return t;
    }
    return vbp_detect(d, target, 0.5f);
}

vbp_outcome vbp_classify(const vbp_detection *truth, const vbp_detection *pred, float tol)
{
    if (!truth->visible)
        return pred->visible ? VBP_FP2 : VBP_TN;
    if (!pred->visible)
        return VBP_FN;
    double dx = (double)pred->x - truth->x, dy = (double)pred->y - truth->y;
    return sqrt(dx * dx + dy * dy) <= tol ? VBP_TP : VBP_FP1;
}

void vbp_counts_add(vbp_counts *c, vbp_outcome o)
{
    switch (o) {
    case VBP_TP: c->tp++; break;
    case VBP_TN: c->tn++; break;
    case VBP_FP1: c->fp1++; break;
    case VBP_FP2: c->fp2++; break;
    case VBP_FN: c->fn++; break;
    }
}

uint64_t vbp_counts_total(const vbp_counts *c)
{
    return c->tp + c->tn + c->fp1 + c->fp2 + c->fn;
}

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

vbp_scores vbp_counts_scores(const vbp_counts *c)
{
    vbp_scores s;
    s.precision = ratio(c->tp, c->tp + c->fp1 + c->fp2);
    s.recall = ratio(c->tp, c->tp + c->fn);
    s.f1 = s.precision + s.recall > 0.0 ? 2.0 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    s.accuracy = ratio(c->tp + c->tn, vbp_counts_total(c));
    return s;
}

const char *vbp_outcome_name(vbp_outcome o)
{
    static const char *const names[] = { "TP", "TN", "FP1", "FP2", "FN" };
    return vbp_name_of(names, 5, (unsigned)o);
}

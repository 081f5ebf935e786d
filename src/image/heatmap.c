/*
 * heatmap.c - target heatmaps drawn from ball labels.
 *
 * DISC imitates the VballNet TensorFlow trainer: a filled disc of value 255
 * and radius style->radius (3) centred at (x + 1, y + 1).  That trainer
 * shifts the label by one pixel right and down; we keep the shift so packed
 * targets equal what its users trained on.  A pixel (px, py) belongs to the
 * disc when (px - cx)^2 + (py - cy)^2 <= r^2, pixel centres at integers.
 *
 * GAUSSIAN imitates the TrackNetV4 preprocessor, reverse-engineered from its
 * published heatmaps (tests/test_heatmap.c checks against them):
 *     g(px, py) = exp(-((px - x)^2 + (py - y)^2) / (2 sigma^2))
 *     v(px, py) = floor(255 * g(px, py) / max over the image of g)
 * centred at the label itself (no half-pixel shift), normalised by the
 * largest pixel value (so the pixel nearest the centre is always 255 even
 * for a sub-pixel centre), truncated, not rounded, and no cutoff other than
 * the truncation to 0 (sigma 3, integral centre: d^2 <= 99, 305 pixels).
 * With the exact centre this reproduces every real heatmap of both sample
 * clips bit for bit (max abs difference 0).  Their CSVs, however, hold the
 * labels truncated to integers (the heatmaps were drawn at label * 0.4, a
 * multiple of 0.2 px), so drawing from the integer CSV labels differs by up
 * to 57 (volleyball) and 62 (badminton) at the steepest pixel.
 * A centre outside the image draws the part that falls inside, scaled so the
 * brightest visible pixel is 255 (as the preprocessor does), unless it lies
 * farther out than sigma * sqrt(2 ln 255): then nothing is drawn.
 */
#include <math.h>
#include <stddef.h>

#include "vbp_image.h"

/* Clamp the closed interval [lo, hi] (doubles) to pixel indices [0, n-1]; returns 0 if empty. */
static int clip_span(double lo, double hi, uint32_t n, uint32_t *a, uint32_t *b)
{
    lo = ceil(lo);
    hi = floor(hi);
    if (!(lo <= hi) || hi < 0.0 || lo > (double)n - 1.0)
        return 0;
    *a = lo < 0.0 ? 0 : (uint32_t)lo;
    *b = hi > (double)n - 1.0 ? n - 1 : (uint32_t)hi;
    return 1;
}

void vbp_heatmap_draw(uint8_t *hm, uint32_t width, uint32_t height, float x, float y,
                      const vbp_heatmap_style *style)
{
    if (!hm || !style || width == 0 || height == 0 || !isfinite(x) || !isfinite(y))
        return;
    double cx = x, cy = y, reach, r2 = 0.0, inv2s2 = 0.0, peak = 1.0;
    if (style->shape == VBP_HEATMAP_DISC) {
        double r = style->radius;
        if (!isfinite(r) || r < 0.0)
            return;
        cx += 1.0;
        cy += 1.0;
        r2 = r * r;
        reach = r;
    } else {
        double s = style->sigma;
        if (!isfinite(s) || s <= 0.0)
            return;
        inv2s2 = 1.0 / (2.0 * s * s);
        /* the brightest pixel is the one nearest the centre, clamped into the image */
        double nx = fmin(fmax(nearbyint(cx), 0.0), (double)width - 1.0) - cx;
        double ny = fmin(fmax(nearbyint(cy), 0.0), (double)height - 1.0) - cy;
        double near2 = nx * nx + ny * ny;
        /* a centre so far outside that its own peak would be < 1/255 draws nothing */
        double visible2 = 2.0 * s * s * log(255.0);
        if (near2 > visible2)
            return;
        peak = exp(-near2 * inv2s2);
        /* beyond this distance v < 1 truncates to 0 */
        reach = sqrt(near2 + visible2) + 1.0;
    }
    uint32_t x0, x1, y0, y1;
    if (!clip_span(cx - reach, cx + reach, width, &x0, &x1) ||
        !clip_span(cy - reach, cy + reach, height, &y0, &y1))
        return;
    for (uint32_t py = y0; py <= y1; py++) {
        double dy = (double)py - cy;
        uint8_t *row = hm + (size_t)py * width;
        for (uint32_t px = x0; px <= x1; px++) {
            double dx = (double)px - cx, d2 = dx * dx + dy * dy;
            if (style->shape == VBP_HEATMAP_DISC) {
                if (d2 <= r2)
                    row[px] = 255;
            } else {
                double v = floor(255.0 * exp(-d2 * inv2s2) / peak);
                uint8_t u = v >= 255.0 ? 255 : (uint8_t)v;
                if (u > row[px])
                    row[px] = u;
            }
        }
    }
}

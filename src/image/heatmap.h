/*
 * heatmap.h - drawing target heatmaps from ball labels (internal).
 *
 * Both write a single-channel uint8 H x W heatmap; the caller zeroes it
 * first (a hidden ball is an all-zero heatmap).
 */
#ifndef VBP_HEATMAP_H
#define VBP_HEATMAP_H

#include <stdint.h>

typedef enum vbp_heatmap_shape {
    VBP_HEATMAP_DISC = 0,    /* VballNet TensorFlow trainer: filled disc, value 255 */
    VBP_HEATMAP_GAUSSIAN = 1 /* TrackNetV4 preprocessor: Gaussian, peak 255 */
} vbp_heatmap_shape;

typedef struct vbp_heatmap_style {
    vbp_heatmap_shape shape;
    float radius; /* disc radius in pixels (VballNet: 3) */
    float sigma;  /* Gaussian sigma in pixels (TrackNetV4: about 3) */
} vbp_heatmap_style;

/*
 * Draw the ball at label position (x, y) into hm (H x W, zeroed by the
 * caller) in the given style; the exact centre convention of each style is
 * documented in docs/packing.md and matches the public tool it imitates.
 */
void vbp_heatmap_draw(uint8_t *hm, uint32_t width, uint32_t height, float x, float y,
                      const vbp_heatmap_style *style);

#endif

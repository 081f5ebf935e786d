/*
 * vbp_image.h - PNG files <-> channel-planar uint8 images, and target
 * heatmaps drawn from ball labels.
 *
 * Images in vbpack are channel-planar: C,H,W uint8, C = 1 (gray) or 3 (RGB).
 * Reading converts whatever the PNG holds (gray, gray+alpha, RGB, RGBA,
 * palette, 16-bit, interlaced) to the requested channel count; the gray
 * conversion is OpenCV's cv::cvtColor RGB2GRAY (formats/vbpack.md states it).
 * Heatmaps are single-channel uint8 H x W; the caller zeroes one first (a
 * hidden ball is an all-zero heatmap).
 */
#ifndef VBP_IMAGE_H
#define VBP_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif


/* Width, height and channel count stored in the PNG, without decoding pixels. */
int vbp_png_probe(const char *path, uint32_t *width, uint32_t *height, uint32_t *channels,
                  vbp_error *err);

/*
 * Decode `path` into dst as `channels` (1 or 3) planar planes of
 * width x height.  Fails with VBP_E_GEOMETRY (stating both sizes) when the
 * PNG is not width x height, VBP_E_INPUT when it is corrupt, VBP_E_IO when it
 * cannot be read.  dst_size must be >= channels*width*height.
 */
int vbp_png_read_planar(const char *path, uint32_t width, uint32_t height, uint32_t channels,
                        uint8_t *dst, size_t dst_size, vbp_error *err);

/* Same, from a PNG held in memory (fuzzing, tests); `name` is used in messages. */
int vbp_png_decode_planar(const uint8_t *png, size_t png_size, const char *name,
                          uint32_t width, uint32_t height, uint32_t channels,
                          uint8_t *dst, size_t dst_size, vbp_error *err);

/*
 * Write a planar image (channels 1 or 3) as an 8-bit PNG, atomically
 * (temporary file + rename).  Fails with VBP_E_IO.
 */
int vbp_png_write_planar(const char *path, const uint8_t *planar, uint32_t width, uint32_t height,
                         uint32_t channels, vbp_error *err);

/* Like vbp_png_probe, from a PNG held in memory; `name` is used in messages. */
int vbp_png_probe_mem(const uint8_t *png, size_t png_size, const char *name, uint32_t *width,
                      uint32_t *height, uint32_t *channels, vbp_error *err);

/*
 * Read the whole file at `path` into *buf (grown with realloc when *cap is
 * too small, so a caller can reuse one buffer for many files); *size gets the
 * byte count.  Fails with VBP_E_IO naming the file, or VBP_E_NOMEM.
 */
int vbp_file_read(const char *path, uint8_t **buf, size_t *cap, size_t *size, vbp_error *err);


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
 * documented in formats/vbpack.md and matches the public tool it imitates.
 */
void vbp_heatmap_draw(uint8_t *hm, uint32_t width, uint32_t height, float x, float y,
                      const vbp_heatmap_style *style);

#ifdef __cplusplus
}
#endif
#endif

/*
 * draw.h - a small RGB canvas for the pictures of vbtrain (prediction
 * overlays, contact sheets, learning curves): pixels, lines, rings, boxes,
 * a 3x5 bitmap font, box-filter downscaling, PNG output (internal).
 *
 * Coordinates are pixels, (0, 0) top left; drawing outside the canvas is
 * clipped.  The canvas is channel-planar (R, G, B planes of w x h) like the
 * images of png_io.h.
 */
#ifndef VBP_DRAW_H
#define VBP_DRAW_H

#include <stdint.h>
#include "vbp_error.h"

typedef struct vbp_rgb { uint8_t r, g, b; } vbp_rgb;

typedef struct vbp_canvas {
    uint8_t *px;      /* 3 planes of w * h */
    uint32_t w, h;
} vbp_canvas;

/* Allocate a w x h canvas filled with `fill`.  VBP_E_NOMEM, VBP_E_ARG (empty). */
int vbp_canvas_init(vbp_canvas *c, uint32_t w, uint32_t h, vbp_rgb fill, vbp_error *err);
void vbp_canvas_free(vbp_canvas *c);

/* Copy a planar image of `channels` (1: gray, expanded to R=G=B; 3: RGB) of the canvas's size. */
void vbp_canvas_from_planar(vbp_canvas *c, const uint8_t *src, uint32_t channels);

void vbp_draw_pixel(vbp_canvas *c, int64_t x, int64_t y, vbp_rgb col);
/* Filled rectangle [x0, x1] x [y0, y1] (inclusive). */
void vbp_draw_box(vbp_canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, vbp_rgb col);
/* Line from (x0, y0) to (x1, y1), both ends included (Bresenham), `thick` pixels wide (1 or 2+). */
void vbp_draw_line(vbp_canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, uint32_t thick,
                   vbp_rgb col);
/* Ring: every pixel whose centre lies within half_width of the circle (cx, cy, r). */
void vbp_draw_ring(vbp_canvas *c, float cx, float cy, float r, float half_width, vbp_rgb col);
/*
 * Text in the built-in 3x5 font (digits, '.', '-', '+', ':', '/', space and the
 * letters of "aceEFhilnoprstv"; others draw as a box outline), top left at (x, y),
 * each font pixel a scale x scale block, 4*scale pixels per character.
 */
void vbp_draw_text(vbp_canvas *c, int64_t x, int64_t y, const char *s, uint32_t scale, vbp_rgb col);

/*
 * Paste src shrunk by `factor` (box filter: the mean of each factor x factor
 * block, rounded) with its top left at (x, y) of dst.
 */
void vbp_canvas_paste_shrunk(vbp_canvas *dst, int64_t x, int64_t y, const vbp_canvas *src,
                             uint32_t factor);

/* Write as an 8-bit RGB PNG, atomically (vbp_png_write_planar).  VBP_E_IO naming path. */
int vbp_canvas_write_png(const vbp_canvas *c, const char *path, vbp_error *err);

#endif

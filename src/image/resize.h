/*
 * resize.h - shrinking 8-bit BGR frames with OpenCV's area filter, bit for
 * bit (internal).
 *
 * The frames users train on were made by OpenCV: cv2.VideoCapture's BGR
 * frame, then cv2.resize(frame, (W, H), interpolation=cv2.INTER_AREA).  This
 * is that resize, computed in the same order with the same float arithmetic,
 * so a pack compiled from a video holds the same bytes as one compiled from
 * the PNGs OpenCV wrote (tests/test_resize_reference.py checks it against
 * cv2 for integer, non-integer and odd scale factors).  Three cases, as
 * OpenCV 4.x picks them:
 *   - same size: a copy;
 *   - both factors integers (sw = k*dw, sh = m*dh): the mean of each k x m
 *     block, (sum + 2) >> 2 for 2 x 2 blocks, else round-half-even of
 *     sum * (1.0f / (k*m));
 *   - otherwise: each output pixel is the area-weighted mean of the source
 *     pixels its cell covers, rows first: per source row, the horizontal
 *     weighted sums in float (taps in source order, starting from 0), then
 *     per output row the vertical sum of those rows times their weights,
 *     rounded half to even.  Weights come from double arithmetic rounded to
 *     float, exactly as OpenCV's table.
 * Only shrinking is done (OpenCV's area filter turns into a bilinear one
 * when growing): a larger output is VBP_E_ARG.
 */
#ifndef VBP_RESIZE_H
#define VBP_RESIZE_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

/* Bytes the caller keeps readable (any value) past the 3*sw bytes of each source row. */
#define VBP_AREA_PAD 16

typedef struct vbp_area vbp_area;

/*
 * Plan the shrink of sw x sh to dw x dh (1 <= dw <= sw, 1 <= dh <= sh, all
 * <= 65535).  VBP_E_ARG (the detail states both sizes) when the output is
 * larger in a dimension or empty, VBP_E_NOMEM.
 */
int vbp_area_create(uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh, vbp_area **out,
                    vbp_error *err);
void vbp_area_free(vbp_area *a);

/*
 * Shrink the packed BGR image at bgr (sh rows `stride` bytes apart, each
 * readable VBP_AREA_PAD bytes past its 3*sw) into three planes R, G, B of
 * dw*dh bytes at rgb.  Uses scratch rows inside a: one vbp_area per thread.
 */
void vbp_area_run(vbp_area *a, const uint8_t *bgr, size_t stride, uint8_t *rgb);

/*
 * Tests and benchmarks: use at most kernel `level` (0 portable C, 1 SSE2, 2 AVX2: two
 * pixels per register and 256-bit vertical sums, 3 AVX-512: four pixels per register; the
 * same bytes from each).  Returns the level in
 * use: the highest one up to `level` that this CPU and this table have.
 */
int vbp_area_set_simd(vbp_area *a, int level);

#endif

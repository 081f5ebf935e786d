/*
 * input_fixture.h - source datasets for the input tests: PNGs of every
 * colour type written directly with libpng (independent of src/) and small
 * dataset trees in both layouts.
 */
#ifndef VBP_INPUT_FIXTURE_H
#define VBP_INPUT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include "fixture.h"

/* One PNG flavour: colour type, bit depth, interlace, tRNS chunk. */
typedef struct fx_png_case {
    const char *name;
    int color_type; /* PNG_COLOR_TYPE_* */
    int depth;
    int interlace;  /* 0 or 1 (Adam7) */
    int trns;       /* write a tRNS chunk */
} fx_png_case;

extern const fx_png_case fx_png_cases[];
extern const size_t fx_png_case_count;

/*
 * Write case c as a w x h PNG at path with pseudo-random content (seed), and
 * put in rgb (3*w*h, planar) what OpenCV's imread(IMREAD_COLOR) gives for it
 * after BGR->RGB: 16-bit >> 8, low gray depths scaled to 0..255, palette
 * looked up, alpha dropped.  Returns 0 or -1.
 */
int fx_png_write_case(const char *path, const fx_png_case *c, uint32_t w, uint32_t h,
                      uint32_t seed, uint8_t *rgb);

/* Plain 8-bit PNG from planar data (channels 1 or 3); returns 0 or -1. */
int fx_png_write(const char *path, const uint8_t *planar, uint32_t w, uint32_t h,
                 uint32_t channels);

/* OpenCV RGB2GRAY on one pixel, written independently of src/image/png_read.c. */
uint8_t fx_gray(uint8_t r, uint8_t g, uint8_t b);

/*
 * A small dataset clip: n frames (w x h RGB) as dir/<i>.png with content
 * fx_frame_value(seed, ...); when heatmap_dir is not NULL also n gray
 * heatmaps there; when csv is not NULL a labels CSV with n rows.
 */
int fx_make_clip(const char *frame_dir, const char *heatmap_dir, const char *csv, uint32_t n,
                 uint32_t w, uint32_t h, uint32_t seed);

#endif

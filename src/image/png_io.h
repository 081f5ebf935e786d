/*
 * png_io.h - PNG files <-> channel-planar uint8 images (internal).
 *
 * Images in vbpack are channel-planar: C,H,W uint8, C = 1 (gray) or 3 (RGB).
 * Reading converts whatever the PNG holds (gray, gray+alpha, RGB, RGBA,
 * palette, 16-bit, interlaced) to the requested channel count; the gray
 * conversion is OpenCV's cv::cvtColor RGB2GRAY (see docs/packing.md).
 */
#ifndef VBP_PNG_IO_H
#define VBP_PNG_IO_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

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

#endif

/*
 * png_test_read.h - an independent PNG reader for tests (libpng's simplified
 * API), so tests of writers and drawers do not depend on src/image/png_read.c.
 */
#ifndef VBP_PNG_TEST_READ_H
#define VBP_PNG_TEST_READ_H

#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Load `path` as `channels` (1 = gray, 3 = RGB) channel-planar planes.
 * Returns a malloc'ed C,H,W buffer and the size in *w, *h, or NULL.
 */
static inline uint8_t *test_png_load(const char *path, uint32_t channels, uint32_t *w,
                                     uint32_t *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return NULL;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    size_t plane = (size_t)img.width * img.height;
    uint8_t *packed = malloc(plane * channels), *planar = malloc(plane * channels);
    if (!packed || !planar || !png_image_finish_read(&img, NULL, packed, 0, NULL)) {
        png_image_free(&img);
        free(packed);
        free(planar);
        return NULL;
    }
    for (size_t i = 0; i < plane; i++)
        for (uint32_t c = 0; c < channels; c++)
            planar[c * plane + i] = packed[i * channels + c];
    free(packed);
    *w = img.width;
    *h = img.height;
    return planar;
}

#endif

/*
 * fuzz_png.c - libFuzzer target: the PNG input path (probe, then decode to
 * gray and to RGB planes) on arbitrary bytes.  For an accepted image the
 * gray planes must be OpenCV's RGB2GRAY of the RGB planes, pixel for pixel;
 * a refused one gives one error line naming the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "vbp_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.png"
#define MAX_PIXELS (1u << 20) /* decode at most 1 Mpixel (vbpack decodes at --size only) */

static void check_error(int rc, const vbp_error *err)
{
    FUZZ_CHECK(rc < 0 && err->code == rc && !strncmp(err->detail, NAME, strlen(NAME)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vbp_error err;
    uint32_t w, h, ch;
    int rc = vbp_png_probe_mem(data, size, NAME, &w, &h, &ch, &err);
    if (rc) {
        check_error(rc, &err);
        return 0;
    }
    FUZZ_CHECK(w >= 1 && h >= 1 && ch >= 1 && ch <= 4);
    if ((uint64_t)w * h > MAX_PIXELS) {
        /* vbpack decodes at the pack geometry: a different size must be refused before decoding */
        uint8_t small[3 * 16 * 16];
        rc = vbp_png_decode_planar(data, size, NAME, 16, 16, 3, small, sizeof small, &err);
        FUZZ_CHECK(rc == VBP_E_GEOMETRY);
        return 0;
    }
    size_t plane = (size_t)w * h;
    uint8_t *rgb = malloc(3 * plane), *gray = malloc(plane);
    FUZZ_CHECK(rgb && gray);
    int rc3 = vbp_png_decode_planar(data, size, NAME, w, h, 3, rgb, 3 * plane, &err);
    if (rc3)
        check_error(rc3, &err);
    int rc1 = vbp_png_decode_planar(data, size, NAME, w, h, 1, gray, plane, &err);
    if (rc1)
        check_error(rc1, &err);
    FUZZ_CHECK(rc1 == rc3); /* the channel count never changes what is accepted */
    for (size_t i = 0; !rc1 && i < plane; i++) {
        unsigned r = rgb[i], g = rgb[plane + i], b = rgb[2 * plane + i];
        FUZZ_CHECK(gray[i] == (uint8_t)((r * 9798 + g * 19235 + b * 3735 + 16384) >> 15));
    }
    /* a size that differs from the stored one is refused naming both */
    uint8_t one[3];
    if (w != 1 || h != 1)
        FUZZ_CHECK(vbp_png_decode_planar(data, size, NAME, 1, 1, 3, one, sizeof one, &err) ==
                   VBP_E_GEOMETRY);
    free(rgb);
    free(gray);
    return 0;
}

/*
 * fuzz_png.c - libFuzzer target for src/png_read.c: any bytes must give
 * VBP_OK or a vbp_errcode with a detail line, never a crash, leak or
 * out-of-bounds access.  Build: meson setup -Dfuzz=true (clang).
 */
#include <stdint.h>
#include <stdlib.h>
#include "png_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t w, h, c;
    vbp_error e;
    if (vbp_png_probe_mem(data, size, "fuzz.png", &w, &h, &c, &e) != VBP_OK)
        return 0;
    if (w == 0 || h == 0 || (uint64_t)w * h > (1u << 22))
        return 0;
    size_t n = (size_t)w * h * 3;
    uint8_t *dst = malloc(n);
    if (!dst)
        return 0;
    vbp_png_decode_planar(data, size, "fuzz.png", w, h, 3, dst, n, &e);
    vbp_png_decode_planar(data, size, "fuzz.png", w, h, 1, dst, n, &e);
    free(dst);
    return 0;
}

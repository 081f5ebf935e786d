/*
 * resize_dump - for tests/test_resize_reference.py: a pseudo-random BGR image
 * and what src/image/resize_area.c makes of it.
 *   resize_dump SW SH DW DH SEED PREFIX  ->  PREFIX.bgr (SH rows of 3*SW bytes),
 *                                             PREFIX.rgb (planes R, G, B of DW*DH)
 * Smooth gradients plus noise, so that rounding ties and saturation both occur.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "resize.h"

int main(int argc, char **argv)
{
    if (argc != 7)
        return fprintf(stderr, "usage: resize_dump SW SH DW DH SEED PREFIX\n"), 2;
    unsigned sw = (unsigned)atoi(argv[1]), sh = (unsigned)atoi(argv[2]);
    unsigned dw = (unsigned)atoi(argv[3]), dh = (unsigned)atoi(argv[4]);
    unsigned long long x = strtoull(argv[5], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
    size_t n = (size_t)3 * sw * sh;
    uint8_t *bgr = calloc(n + VBP_AREA_PAD, 1), *rgb = malloc((size_t)3 * dw * dh);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t px = i / 3, r = px / sw, c = px % sw;
        unsigned v = (unsigned)((r * 3 + c * 2 + (i % 3) * 50) % 256);
        bgr[i] = (uint8_t)(x % 4 == 0 ? (x >> 20) : x % 7 == 0 ? 255 : v);
    }
    vbp_area *a;
    vbp_error err;
    if (vbp_area_create(sw, sh, dw, dh, &a, &err))
        return fprintf(stderr, "resize_dump: %s\n", err.detail), 1;
    vbp_area_run(a, bgr, (size_t)3 * sw, rgb);
    vbp_area_free(a);
    char path[4096];
    snprintf(path, sizeof path, "%s.bgr", argv[6]);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bgr, 1, n, f) != n || fclose(f))
        return fprintf(stderr, "resize_dump: cannot write %s\n", path), 1;
    snprintf(path, sizeof path, "%s.rgb", argv[6]);
    f = fopen(path, "wb");
    if (!f || fwrite(rgb, 1, (size_t)3 * dw * dh, f) != (size_t)3 * dw * dh || fclose(f))
        return fprintf(stderr, "resize_dump: cannot write %s\n", path), 1;
    free(bgr);
    free(rgb);
    return 0;
}

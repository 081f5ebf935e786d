/* input_fixture.c - see input_fixture.h. */
#include "input_fixture.h"
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const fx_png_case fx_png_cases[] = {
    {"gray1", PNG_COLOR_TYPE_GRAY, 1, 0, 0},
    {"gray2", PNG_COLOR_TYPE_GRAY, 2, 0, 0},
    {"gray4", PNG_COLOR_TYPE_GRAY, 4, 1, 0},
    {"gray8", PNG_COLOR_TYPE_GRAY, 8, 0, 0},
    {"gray8_trns", PNG_COLOR_TYPE_GRAY, 8, 0, 1},
    {"gray16", PNG_COLOR_TYPE_GRAY, 16, 0, 0},
    {"gray_alpha8", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0},
    {"gray_alpha16", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 1, 0},
    {"rgb8", PNG_COLOR_TYPE_RGB, 8, 0, 0},
    {"rgb8_interlaced", PNG_COLOR_TYPE_RGB, 8, 1, 0},
    {"rgb8_trns", PNG_COLOR_TYPE_RGB, 8, 0, 1},
    {"rgb16", PNG_COLOR_TYPE_RGB, 16, 0, 0},
    {"rgba8", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0},
    {"rgba16", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, 0},
    {"palette1", PNG_COLOR_TYPE_PALETTE, 1, 0, 0},
    {"palette2", PNG_COLOR_TYPE_PALETTE, 2, 0, 0},
    {"palette4", PNG_COLOR_TYPE_PALETTE, 4, 0, 1},
    {"palette8", PNG_COLOR_TYPE_PALETTE, 8, 0, 0},
    {"palette8_trns_interlaced", PNG_COLOR_TYPE_PALETTE, 8, 1, 1},
};
const size_t fx_png_case_count = sizeof fx_png_cases / sizeof fx_png_cases[0];

uint8_t fx_gray(uint8_t r, uint8_t g, uint8_t b)
{
    /* 0.299 R + 0.587 G + 0.114 B in 15-bit fixed point, rounded (OpenCV 4.x). */
    return (uint8_t)((r * 9798 + g * 19235 + b * 3735 + 16384) >> 15);
}

static uint32_t next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static int channels_of(int ct)
{
    switch (ct) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;
    }
}

/* Write w x h rows of samples (values < 2^depth, `ch` per pixel) as a PNG. */
static int write_png(const char *path, const fx_png_case *c, uint32_t w, uint32_t h,
                     const uint16_t *samples, const png_color *pal, int npal)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int ch = channels_of(c->color_type);
    size_t rowbytes = ((size_t)w * ch * c->depth + 7) / 8;
    uint8_t *row = calloc(rowbytes * h, 1);
    if (!png || !info || !row || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, c->depth, c->color_type,
                 c->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal)
        png_set_PLTE(png, info, pal, npal);
    if (c->trns) {
        if (c->color_type == PNG_COLOR_TYPE_PALETTE) {
            png_byte alpha[4] = {0, 128, 255, 7};
            png_set_tRNS(png, info, alpha, npal < 4 ? npal : 4, NULL);
        } else {
            png_color_16 t = {0, 10, 20, 30, 10};
            png_set_tRNS(png, info, NULL, 0, &t);
        }
    }
    png_write_info(png, info);
    png_bytep *rows = malloc(sizeof(png_bytep) * h);
    if (!rows)
        png_error(png, "oom");
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *r = row + y * rowbytes;
        rows[y] = r;
        for (uint32_t i = 0; i < w * (uint32_t)ch; i++) {
            uint16_t v = samples[(size_t)y * w * ch + i];
            if (c->depth == 16) {
                r[2 * i] = (uint8_t)(v >> 8);
                r[2 * i + 1] = (uint8_t)v;
            } else if (c->depth == 8) {
                r[i] = (uint8_t)v;
            } else {
                size_t bit = (size_t)i * c->depth;
                r[bit / 8] |= (uint8_t)(v << (8 - c->depth - bit % 8));
            }
        }
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0 ? 0 : -1;
}

int fx_png_write_case(const char *path, const fx_png_case *c, uint32_t w, uint32_t h,
                      uint32_t seed, uint8_t *rgb)
{
    int ch = channels_of(c->color_type);
    size_t n = (size_t)w * h, plane = n;
    uint16_t *s = malloc(n * ch * sizeof *s);
    if (!s)
        return -1;
    uint32_t st = seed * 7919u + 1;
    uint32_t maxv = (1u << c->depth) - 1;
    png_color pal[256];
    int npal = c->color_type == PNG_COLOR_TYPE_PALETTE ? 1 << c->depth : 0;
    for (int i = 0; i < npal; i++)
        pal[i] = (png_color){(png_byte)next(&st), (png_byte)next(&st), (png_byte)next(&st)};
    for (size_t i = 0; i < n * ch; i++)
        s[i] = (uint16_t)(next(&st) % (maxv + 1));
    for (size_t p = 0; p < n; p++) {
        const uint16_t *px = s + p * ch;
        uint8_t r, g, b;
        if (c->color_type == PNG_COLOR_TYPE_PALETTE) {
            r = pal[px[0]].red;
            g = pal[px[0]].green;
            b = pal[px[0]].blue;
        } else {
            uint8_t v[3];
            for (int k = 0; k < 3; k++) {
                uint16_t x = px[ch >= 3 ? k : 0];
                v[k] = c->depth == 16 ? (uint8_t)(x >> 8) : (uint8_t)(x * (255 / maxv));
            }
            r = v[0];
            g = v[1];
            b = v[2];
        }
        rgb[p] = r;
        rgb[plane + p] = g;
        rgb[2 * plane + p] = b;
    }
    int rc = write_png(path, c, w, h, s, npal ? pal : NULL, npal);
    free(s);
    return rc;
}

int fx_png_write(const char *path, const uint8_t *planar, uint32_t w, uint32_t h,
                 uint32_t channels)
{
    fx_png_case c = {"plain", channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, 8, 0, 0};
    size_t n = (size_t)w * h;
    uint16_t *s = malloc(n * channels * sizeof *s);
    if (!s)
        return -1;
    for (size_t p = 0; p < n; p++)
        for (uint32_t k = 0; k < channels; k++)
            s[p * channels + k] = planar[k * n + p];
    int rc = write_png(path, &c, w, h, s, NULL, 0);
    free(s);
    return rc;
}

int fx_make_clip(const char *frame_dir, const char *heatmap_dir, const char *csv, uint32_t n,
                 uint32_t w, uint32_t h, uint32_t seed)
{
    size_t plane = (size_t)w * h;
    uint8_t *px = malloc(3 * plane);
    char path[4096];
    FILE *f = NULL;
    int rc = 0;
    if (!px || fx_mkdirs(frame_dir) || (heatmap_dir && fx_mkdirs(heatmap_dir)))
        rc = -1;
    if (!rc && csv && !(f = fopen(csv, "w")))
        rc = -1;
    if (f)
        fprintf(f, "Frame,Visibility,X,Y\n");
    for (uint32_t i = 0; i < n && !rc; i++) {
        for (size_t k = 0; k < 3 * plane; k++)
            px[k] = (uint8_t)((k * 31 + i * 17 + seed * 101) ^ (k >> 5));
        snprintf(path, sizeof path, "%s/%u.png", frame_dir, i);
        rc = fx_png_write(path, px, w, h, 3);
        if (!rc && heatmap_dir) {
            for (size_t k = 0; k < plane; k++)
                px[k] = (uint8_t)(k % (i + 3) == 0 ? 255 : 0);
            snprintf(path, sizeof path, "%s/%u.png", heatmap_dir, i);
            rc = fx_png_write(path, px, w, h, 1);
        }
        if (f)
            fprintf(f, "%u,%u,%u,%u\n", i, i % 3 != 0, (i * 5) % w, (i * 3) % h);
    }
    if (f && fclose(f) != 0)
        rc = -1;
    free(px);
    return rc;
}

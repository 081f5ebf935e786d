/*
 * draw.c - the RGB canvas of draw.h: clipped pixels, Bresenham lines,
 * rings, a 3x5 font, box-filter shrinking, atomic PNG output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "draw.h"
#include "internal.h"
#include "vbp_image.h"

int vbp_canvas_init(vbp_canvas *c, uint32_t w, uint32_t h, vbp_rgb fill, vbp_error *err)
{
    c->px = NULL;
    c->w = w;
    c->h = h;
    if (!w || !h)
        return vbp_fail(err, VBP_E_ARG, "canvas: empty size %ux%u", w, h);
    size_t plane = (size_t)w * h;
    c->px = malloc(3 * plane);
    if (!c->px)
        return vbp_fail(err, VBP_E_NOMEM, "canvas: cannot allocate %ux%u", w, h);
    memset(c->px, fill.r, plane);
    memset(c->px + plane, fill.g, plane);
    memset(c->px + 2 * plane, fill.b, plane);
    return VBP_OK;
}

void vbp_canvas_free(vbp_canvas *c)
{
    free(c->px);
    c->px = NULL;
}

void vbp_canvas_from_planar(vbp_canvas *c, const uint8_t *src, uint32_t channels)
{
    size_t plane = (size_t)c->w * c->h;
    for (int k = 0; k < 3; k++)
        memcpy(c->px + k * plane, src + (channels == 3 ? k * plane : 0), plane);
}

void vbp_draw_pixel(vbp_canvas *c, int64_t x, int64_t y, vbp_rgb col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    size_t plane = (size_t)c->w * c->h, i = (size_t)y * c->w + (size_t)x;
    c->px[i] = col.r;
    c->px[plane + i] = col.g;
    c->px[2 * plane + i] = col.b;
}

void vbp_draw_box(vbp_canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, vbp_rgb col)
{
    for (int64_t y = y0; y <= y1; y++)
        for (int64_t x = x0; x <= x1; x++)
            vbp_draw_pixel(c, x, y, col);
}

void vbp_draw_line(vbp_canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, uint32_t thick,
                   vbp_rgb col)
{
    int64_t dx = llabs(x1 - x0), dy = -llabs(y1 - y0);
    int64_t sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    int64_t lo = -(int64_t)(thick ? thick - 1 : 0) / 2, hi = lo + (thick ? thick : 1) - 1;
    for (;;) {
        vbp_draw_box(c, x0 + lo, y0 + lo, x0 + hi, y0 + hi, col);
        if (x0 == x1 && y0 == y1)
            break;
        int64_t e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

void vbp_draw_ring(vbp_canvas *c, float cx, float cy, float r, float half_width, vbp_rgb col)
{
    float reach = r + half_width + 1.0f;
    for (int64_t y = (int64_t)floorf(cy - reach); y <= (int64_t)ceilf(cy + reach); y++)
        for (int64_t x = (int64_t)floorf(cx - reach); x <= (int64_t)ceilf(cx + reach); x++) {
            float d = hypotf((float)x - cx, (float)y - cy);
            if (fabsf(d - r) <= half_width)
                vbp_draw_pixel(c, x, y, col);
        }
}

/* 3x5 glyphs: five rows of three bits, most significant bit on the left. */
static const struct { char ch; uint8_t rows[5]; } font[] = {
    { '0', { 7, 5, 5, 5, 7 } }, { '1', { 2, 6, 2, 2, 7 } }, { '2', { 7, 1, 7, 4, 7 } },
    { '3', { 7, 1, 7, 1, 7 } }, { '4', { 5, 5, 7, 1, 1 } }, { '5', { 7, 4, 7, 1, 7 } },
    { '6', { 7, 4, 7, 5, 7 } }, { '7', { 7, 1, 1, 1, 1 } }, { '8', { 7, 5, 7, 5, 7 } },
    { '9', { 7, 5, 7, 1, 7 } }, { '.', { 0, 0, 0, 0, 2 } }, { '-', { 0, 0, 7, 0, 0 } },
    { '+', { 0, 2, 7, 2, 0 } }, { ':', { 0, 2, 0, 2, 0 } }, { '/', { 1, 1, 2, 4, 4 } },
    { ' ', { 0, 0, 0, 0, 0 } }, { 'a', { 0, 3, 5, 5, 3 } }, { 'c', { 0, 3, 4, 4, 3 } },
    { 'e', { 0, 2, 7, 4, 3 } }, { 'E', { 7, 4, 6, 4, 7 } }, { 'F', { 7, 4, 6, 4, 4 } },
    { 'h', { 4, 4, 7, 5, 5 } }, { 'i', { 2, 0, 2, 2, 2 } }, { 'l', { 6, 2, 2, 2, 7 } },
    { 'n', { 0, 6, 5, 5, 5 } }, { 'o', { 0, 2, 5, 5, 2 } }, { 'p', { 0, 6, 5, 6, 4 } },
    { 'r', { 0, 5, 6, 4, 4 } }, { 's', { 0, 3, 6, 1, 6 } }, { 't', { 2, 7, 2, 2, 3 } },
    { 'v', { 0, 5, 5, 5, 2 } },
};

void vbp_draw_text(vbp_canvas *c, int64_t x, int64_t y, const char *s, uint32_t scale, vbp_rgb col)
{
    static const uint8_t unknown[5] = { 7, 5, 5, 5, 7 };
    int64_t k = scale ? scale : 1;
    for (; *s; s++, x += 4 * k) {
        const uint8_t *rows = unknown;
        for (size_t g = 0; g < sizeof font / sizeof *font; g++)
            if (font[g].ch == *s)
                rows = font[g].rows;
        for (int64_t r = 0; r < 5; r++)
            for (int64_t b = 0; b < 3; b++)
                if (rows[r] >> (2 - b) & 1)
                    vbp_draw_box(c, x + b * k, y + r * k, x + b * k + k - 1, y + r * k + k - 1, col);
    }
}

void vbp_canvas_paste_shrunk(vbp_canvas *dst, int64_t x, int64_t y, const vbp_canvas *src,
                             uint32_t factor)
{
    uint32_t f = factor ? factor : 1, w = src->w / f, h = src->h / f;
    size_t splane = (size_t)src->w * src->h, dplane = (size_t)dst->w * dst->h;
    for (uint32_t ty = 0; ty < h; ty++) {
        int64_t oy = y + ty;
        if (oy < 0 || oy >= dst->h)
            continue;
        for (uint32_t tx = 0; tx < w; tx++) {
            int64_t ox = x + tx;
            if (ox < 0 || ox >= dst->w)
                continue;
            for (int k = 0; k < 3; k++) {
                uint32_t sum = 0;
                for (uint32_t j = 0; j < f; j++)
                    for (uint32_t i = 0; i < f; i++)
                        sum += src->px[k * splane + (size_t)(ty * f + j) * src->w + tx * f + i];
                dst->px[k * dplane + (size_t)oy * dst->w + (size_t)ox] = (uint8_t)((sum + f * f / 2) / (f * f));
            }
        }
    }
}

int vbp_canvas_write_png(const vbp_canvas *c, const char *path, vbp_error *err)
{
    return vbp_png_write_planar(path, c->px, c->w, c->h, 3, err);
}

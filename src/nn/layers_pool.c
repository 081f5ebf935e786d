/*
 * layers_pool.c - 2x2 max pooling, 2x upsampling (bilinear with align_corners=False, nearest)
 * and the channel copies that implement concatenation.  Shapes: layers.h.
 * Compiled for float and double (layers_tmpl.h).
 */
#ifndef VBP_TMPL_PASS
#include <string.h>
#include "layers.h"
#define VBP_TMPL_FILE "layers_pool.c"
#include "layers_tmpl.h"
#else
#include "layers_rows.h"

void FN(vbp_maxpool_forward)(real *out, const real *in, size_t n, size_t c, size_t h, size_t w,
                             int nt)
{
    const size_t ho = h / 2, wo = w / 2;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++)
        for (size_t y = 0; y < ho; y++) {
            const real *r0 = in + pl * h * w + 2 * y * w;
            FN(vbp_pool_row)(out + pl * ho * wo + y * wo, r0, r0 + w, wo);
        }
}

void FN(vbp_maxpool_backward)(real *din, const real *dout, const real *in, const real *out,
                              size_t n, size_t c, size_t h, size_t w, int nt)
{
    const size_t ho = h / 2, wo = w / 2;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++)
        for (size_t y = 0; y < ho; y++) {
            const size_t base = pl * h * w + 2 * y * w;
            const real *restrict r0 = in + base, *restrict r1 = r0 + w;
            real *restrict d0 = din + base, *restrict d1 = d0 + w;
            const real *restrict o = out + pl * ho * wo + y * wo;
            const real *restrict g = dout + pl * ho * wo + y * wo;
            /* The first window element (row-major) equal to the maximum wins, as the strict '>'
             * scan of the forward pass (and PyTorch) picks it.  Without branches: the winner
             * depends on the data, and the loop vectorises. */
            for (size_t x = 0; x < wo; x++) {
                const real m = o[x], gx = g[x];
                const int ea = r0[2 * x] == m, eb = !ea & (r0[2 * x + 1] == m);
                const int ec = !(ea | eb) & (r1[2 * x] == m), ed = !(ea | eb | ec);
                d0[2 * x] += ea ? gx : 0;
                d0[2 * x + 1] += eb ? gx : 0;
                d1[2 * x] += ec ? gx : 0;
                d1[2 * x + 1] += ed ? gx : 0;
            }
        }
}

void FN(vbp_up2x_forward)(real *out, size_t out_ns, const real *in, size_t n, size_t c, size_t h,
                          size_t w, int up, int nt)
{
    const size_t P = h * w;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++)
        FN(up_rows)(out + (pl / c) * out_ns + (pl % c) * 4 * P, in + pl * P, h, w, up, 0, 2 * h);
}

void FN(vbp_up2x_backward)(real *din, const real *dout, size_t dout_ns, size_t n, size_t c,
                           size_t h, size_t w, int up, int nt)
{
    const size_t W = 2 * w, P = h * w;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        real *d = din + pl * P;
        const real *g = dout + (pl / c) * dout_ns + (pl % c) * 4 * P;
        memset(d, 0, P * sizeof *d);
        for (size_t oy = 0; oy < 2 * h; oy++)
            FN(up_row_backward)(d, g + oy * W, oy, h, w, up);
    }
}

void FN(vbp_channels_scatter)(real *dst, size_t dst_ns, const real *src, size_t n, size_t cP,
                              int nt)
{
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t s = 0; s < n; s++)
        memcpy(dst + s * dst_ns, src + s * cP, cP * sizeof *src);
}

void FN(vbp_channels_gather)(real *dst, const real *src, size_t src_ns, size_t n, size_t cP,
                             int add, int nt)
{
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t s = 0; s < n; s++) {
        real *restrict d = dst + s * cP;
        const real *restrict x = src + s * src_ns;
        if (!add)
            memcpy(d, x, cP * sizeof *d);
        else
            for (size_t i = 0; i < cP; i++)
                d[i] += x[i];
    }
}
#endif

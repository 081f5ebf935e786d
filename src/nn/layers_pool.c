/*
 * layers_pool.c - 2x2 max pooling, bilinear 2x upsampling (align_corners=False)
 * and the channel copies that implement concatenation.  Shapes: layers.h.
 * Compiled for float and double (layers_tmpl.h).
 */
#ifndef VBP_TMPL_PASS
#include <string.h>
#include "layers.h"
#define VBP_TMPL_FILE "layers_pool.c"
#include "layers_tmpl.h"
#else

void FN(vbp_maxpool_forward)(real *out, const real *in, size_t n, size_t c, size_t h, size_t w,
                             int nt)
{
    const size_t ho = h / 2, wo = w / 2;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++)
        for (size_t y = 0; y < ho; y++) {
            const real *restrict r0 = in + pl * h * w + 2 * y * w, *restrict r1 = r0 + w;
            real *restrict o = out + pl * ho * wo + y * wo;
            for (size_t x = 0; x < wo; x++) {
                real m = r0[2 * x];
                m = r0[2 * x + 1] > m ? r0[2 * x + 1] : m;
                m = r1[2 * x] > m ? r1[2 * x] : m;
                o[x] = r1[2 * x + 1] > m ? r1[2 * x + 1] : m;
            }
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
            const real *r0 = in + base, *r1 = r0 + w;
            real *d0 = din + base, *d1 = d0 + w;
            const real *o = out + pl * ho * wo + y * wo, *g = dout + pl * ho * wo + y * wo;
            for (size_t x = 0; x < wo; x++) {
                /* The first window element (row-major) equal to the maximum wins, as the
                 * strict '>' scan of the forward pass (and PyTorch) picks it. */
                if (r0[2 * x] == o[x])
                    d0[2 * x] += g[x];
                else if (r0[2 * x + 1] == o[x])
                    d0[2 * x + 1] += g[x];
                else if (r1[2 * x] == o[x])
                    d1[2 * x] += g[x];
                else
                    d1[2 * x + 1] += g[x];
            }
        }
}

/*
 * 1-D bilinear 2x upsampling with half-pixel centres and edge clamping:
 * output 0 copies input 0; output 2k (k >= 1) = .25 x[k-1] + .75 x[k];
 * output 2k+1 = .75 x[k] + .25 x[min(k+1, len-1)].
 * dst[0:2len] = a*ra up-sampled + b*rb up-sampled (rb may be NULL when b = 0).
 */
static void FN(up_row)(real *restrict dst, const real *restrict ra, const real *restrict rb,
                       real a, real b, size_t len)
{
    if (!rb)
        rb = ra, b = 0;
    const real q = (real)0.25, t = (real)0.75;
    const real v0 = a * ra[0] + b * rb[0], vl = a * ra[len - 1] + b * rb[len - 1];
    dst[0] = v0;
    if (len == 1) {
        dst[1] = v0;
        return;
    }
    dst[1] = t * v0 + q * (a * ra[1] + b * rb[1]);
    for (size_t k = 1; k < len - 1; k++) {
        const real vm = a * ra[k - 1] + b * rb[k - 1], v = a * ra[k] + b * rb[k];
        const real vp = a * ra[k + 1] + b * rb[k + 1];
        dst[2 * k] = q * vm + t * v;
        dst[2 * k + 1] = t * v + q * vp;
    }
    dst[2 * len - 2] = q * (a * ra[len - 2] + b * rb[len - 2]) + t * vl;
    dst[2 * len - 1] = vl;
}

/* Vertical taps of output row oy of a 2x upsampling of len rows: rows i0, i1, weights l0, l1. */
static void FN(up_taps)(size_t oy, size_t len, size_t *i0, size_t *i1, real *l0, real *l1)
{
    const size_t k = oy / 2;
    if (oy == 0) {
        *i0 = *i1 = 0, *l0 = 1, *l1 = 0;
    } else if (oy % 2 == 0) {
        *i0 = k - 1, *i1 = k, *l0 = (real)0.25, *l1 = (real)0.75;
    } else {
        *i0 = k, *i1 = k + 1 < len ? k + 1 : k, *l0 = (real)0.75, *l1 = (real)0.25;
    }
}

void FN(vbp_up2x_forward)(real *out, size_t out_ns, const real *in, size_t n, size_t c, size_t h,
                          size_t w, int nt)
{
    const size_t W = 2 * w, P = h * w;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        const real *x = in + pl * P;
        real *o = out + (pl / c) * out_ns + (pl % c) * 4 * P;
        for (size_t oy = 0; oy < 2 * h; oy++) {
            size_t i0, i1;
            real l0, l1;
            FN(up_taps)(oy, h, &i0, &i1, &l0, &l1);
            FN(up_row)(o + oy * W, x + i0 * w, l1 != 0 ? x + i1 * w : NULL, l0, l1, w);
        }
    }
}

/* dst[0:len] += s * (adjoint of the 1-D upsampling applied to g[0:2len]). */
static void FN(up_row_adjoint)(real *restrict dst, const real *restrict g, real s, size_t len)
{
    const real q = (real)0.25 * s, t = (real)0.75 * s;
    if (len == 1) {
        dst[0] += s * (g[0] + g[1]);
        return;
    }
    dst[0] += s * g[0] + t * g[1] + q * g[2];
    for (size_t k = 1; k < len - 1; k++)
        dst[k] += q * g[2 * k - 1] + t * g[2 * k] + t * g[2 * k + 1] + q * g[2 * k + 2];
    const size_t k = len - 1;
    dst[k] += q * g[2 * k - 1] + t * g[2 * k] + s * g[2 * k + 1];
}

void FN(vbp_up2x_backward)(real *din, const real *dout, size_t dout_ns, size_t n, size_t c,
                           size_t h, size_t w, int nt)
{
    const size_t W = 2 * w, P = h * w;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        real *d = din + pl * P;
        const real *g = dout + (pl / c) * dout_ns + (pl % c) * 4 * P;
        memset(d, 0, P * sizeof *d);
        for (size_t oy = 0; oy < 2 * h; oy++) {
            size_t i0, i1;
            real l0, l1;
            FN(up_taps)(oy, h, &i0, &i1, &l0, &l1);
            FN(up_row_adjoint)(d + i0 * w, g + oy * W, l0, w);
            if (l1 != 0)
                FN(up_row_adjoint)(d + i1 * w, g + oy * W, l1, w);
        }
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

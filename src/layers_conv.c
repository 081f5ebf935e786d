/*
 * layers_conv.c - depthwise 3x3 (pad 1, no bias) and pointwise 1x1 convolutions.
 * Shapes and gradient conventions: layers.h.  Compiled for float and double
 * (layers_tmpl.h); the loops over a row or a pixel tile are the vectorised ones.
 */
#ifndef VBP_TMPL_PASS
#include <string.h>
#include "layers.h"
#define VBP_TMPL_FILE "layers_conv.c"
#include "layers_tmpl.h"
#else

/* Pixels per tile of the pointwise conv: a tile of every channel stays in L1/L2. */
#define PW_TILE 128

/* o[h,w] (+)= 3x3 correlation of x[h,w] with k (zero padding). */
static void FN(dw_plane)(real *restrict o, const real *restrict x, const real *k, size_t h,
                         size_t w, int accumulate)
{
    for (size_t y = 0; y < h; y++) {
        real *restrict orow = o + y * w;
        if (!accumulate)
            memset(orow, 0, w * sizeof *orow);
        for (int ky = 0; ky < 3; ky++) {
            if ((y == 0 && ky == 0) || (y + 1 == h && ky == 2))
                continue;
            const real *restrict r = x + (y + (size_t)ky - 1) * w;
            const real k0 = k[ky * 3], k1 = k[ky * 3 + 1], k2 = k[ky * 3 + 2];
            if (w == 1) {
                orow[0] += k1 * r[0];
                continue;
            }
            orow[0] += k1 * r[0] + k2 * r[1];
            for (size_t i = 1; i + 1 < w; i++)
                orow[i] += k0 * r[i - 1] + k1 * r[i] + k2 * r[i + 1];
            orow[w - 1] += k0 * r[w - 2] + k1 * r[w - 1];
        }
    }
}

void FN(vbp_dwconv_forward)(real *out, const real *in, const real *wt, size_t n, size_t c,
                            size_t h, size_t w, int nt)
{
    const size_t P = h * w;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t pl = 0; pl < n * c; pl++)
        FN(dw_plane)(out + pl * P, in + pl * P, wt + (pl % c) * 9, h, w, 0);
}

/* acc[9] += correlation of row g with the three shifts of row r (weights gradient). */
static void FN(dw_row_grad)(double acc[3], const real *restrict g, const real *restrict r,
                            size_t w)
{
    real s0 = 0, s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1)
    for (size_t i = 0; i < w; i++)
        s1 += g[i] * r[i];
#pragma omp simd reduction(+ : s0)
    for (size_t i = 1; i < w; i++)
        s0 += g[i] * r[i - 1];
#pragma omp simd reduction(+ : s2)
    for (size_t i = 0; i < w - 1; i++)
        s2 += g[i] * r[i + 1];
    acc[0] += s0;
    acc[1] += s1;
    acc[2] += s2;
}

void FN(vbp_dwconv_backward)(real *din, real *dwt, const real *dout, const real *in,
                             const real *wt, size_t n, size_t c, size_t h, size_t w, real *part,
                             int nt)
{
    const size_t P = h * w;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t pl = 0; pl < n * c; pl++) {
        const real *g = dout + pl * P, *x = in + pl * P, *k = wt + (pl % c) * 9;
        if (din) {
            /* The input gradient is the correlation of dout with the flipped kernel. */
            real flip[9];
            for (int i = 0; i < 9; i++)
                flip[i] = k[8 - i];
            FN(dw_plane)(din + pl * P, g, flip, h, w, 0);
        }
        double acc[9] = {0};
        for (size_t y = 0; y < h; y++)
            for (int ky = 0; ky < 3; ky++) {
                if ((y == 0 && ky == 0) || (y + 1 == h && ky == 2))
                    continue;
                FN(dw_row_grad)(acc + ky * 3, g + y * w, x + (y + (size_t)ky - 1) * w, w);
            }
        for (int i = 0; i < 9; i++)
            part[pl * 9 + i] = (real)acc[i];
    }
    for (size_t ci = 0; ci < c; ci++)
        for (int i = 0; i < 9; i++) {
            real s = 0;
            for (size_t ni = 0; ni < n; ni++)
                s += part[(ni * c + ci) * 9 + i];
            dwt[ci * 9 + i] += s;
        }
}

/*
 * One tile: out[o, 0:len] = bias[o] + sum_i W(o,i) * in[i, 0:len], where
 * W(o,i) = wt[o*wso + i*wsi] (so the same code applies W and its transpose)
 * and channel planes are P floats apart.
 */
static void FN(pw_tile)(real *restrict out, const real *restrict in, const real *wt, size_t wso,
                        size_t wsi, const real *bias, size_t no, size_t ni, size_t P, size_t len)
{
    for (size_t o = 0; o < no; o++) {
        real acc[PW_TILE];
        const real b = bias ? bias[o] : 0;
        for (size_t t = 0; t < len; t++)
            acc[t] = b;
        for (size_t i = 0; i < ni; i++) {
            const real wv = wt[o * wso + i * wsi];
            const real *restrict x = in + i * P;
            for (size_t t = 0; t < len; t++)
                acc[t] += wv * x[t];
        }
        memcpy(out + o * P, acc, len * sizeof *acc);
    }
}

void FN(vbp_pwconv_forward)(real *out, const real *in, const real *wt, const real *bias,
                            size_t n, size_t ci, size_t co, size_t P, int nt)
{
    const size_t nch = (P + VBP_PW_CHUNK - 1) / VBP_PW_CHUNK;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t u = 0; u < n * nch; u++) {
        const size_t s = u / nch, p0 = (u % nch) * VBP_PW_CHUNK;
        const size_t p1 = p0 + VBP_PW_CHUNK < P ? p0 + VBP_PW_CHUNK : P;
        for (size_t t = p0; t < p1; t += PW_TILE) {
            const size_t len = t + PW_TILE < p1 ? PW_TILE : p1 - t;
            FN(pw_tile)(out + s * co * P + t, in + s * ci * P + t, wt, ci, 1, bias, co, ci, P, len);
        }
    }
}

void FN(vbp_pwconv_backward)(real *din, real *dwt, real *dbias, const real *dout,
                             const real *in, const real *wt, size_t n, size_t ci, size_t co,
                             size_t P, real *part, int nt)
{
    const size_t nch = (P + VBP_PW_CHUNK - 1) / VBP_PW_CHUNK, units = n * nch;
    const size_t K = co * ci + co;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t u = 0; u < units; u++) {
        const size_t s = u / nch, p0 = (u % nch) * VBP_PW_CHUNK;
        const size_t p1 = p0 + VBP_PW_CHUNK < P ? p0 + VBP_PW_CHUNK : P;
        real *pu = part + u * K;
        memset(pu, 0, K * sizeof *pu);
        for (size_t t = p0; t < p1; t += PW_TILE) {
            const size_t len = t + PW_TILE < p1 ? PW_TILE : p1 - t;
            const real *g = dout + s * co * P + t, *x = in + s * ci * P + t;
            if (din)
                FN(pw_tile)(din + s * ci * P + t, g, wt, 1, ci, NULL, ci, co, P, len);
            for (size_t o = 0; o < co; o++) {
                const real *restrict go = g + o * P;
                for (size_t i = 0; i < ci; i++) {
                    const real *restrict xi = x + i * P;
                    real d = 0;
#pragma omp simd reduction(+ : d)
                    for (size_t q = 0; q < len; q++)
                        d += go[q] * xi[q];
                    pu[o * ci + i] += d;
                }
                real b = 0;
#pragma omp simd reduction(+ : b)
                for (size_t q = 0; q < len; q++)
                    b += go[q];
                pu[co * ci + o] += b;
            }
        }
    }
    for (size_t k = 0; k < K; k++) {
        if (k >= co * ci && !dbias)
            break;
        double s = 0;
        for (size_t u = 0; u < units; u++)
            s += part[u * K + k];
        if (k < co * ci)
            dwt[k] += (real)s;
        else
            dbias[k - co * ci] += (real)s;
    }
}

#undef PW_TILE
#endif

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

/* Pixels per span of the pointwise weight gradient. */
#define PW_WG_SPAN 1024

#include "layers_vec.h"
#define INLINE static inline __attribute__((always_inline))

#include "layers_rows.h"
_Static_assert(VBP_PW_TILE <= VBP_PW_TILE_MAX, "VBP_SEP_SCRATCH assumes VBP_PW_TILE_MAX");

/*
 * One output row of the 3x3 correlation with k, zero padding: orow[0:w] from the input rows
 * above (r0), at (r1) and below (r2) it; r0 or r2 NULL at the border.  A missing row is
 * replaced by the centre row with zero weights, so that every row is one fused pass
 * (explicit vectors: clang left the plain loop scalar).  The one implementation of the
 * depthwise forward arithmetic (dw_rows and the fused blocks), which run the same
 * instructions (VBP_SAME_CODE, isa.h) and get the same bits; which path a row takes depends
 * on w only.
 */
VBP_SAME_CODE static void FN(dw_row)(real *restrict orow, const real *restrict r0,
                                     const real *restrict r1, const real *restrict r2,
                                     const real *k, size_t w)
{
    const int up = r0 != NULL, down = r2 != NULL;
    r0 = up ? r0 : r1, r2 = down ? r2 : r1;
    const real a0 = up ? k[0] : 0, a1 = up ? k[1] : 0, a2 = up ? k[2] : 0;
    const real b0 = k[3], b1 = k[4], b2 = k[5];
    const real c0 = down ? k[6] : 0, c1 = down ? k[7] : 0, c2 = down ? k[8] : 0;
#if VBP_DW_SHIFT
    if (w % VL == 0) { /* whole registers; the neighbours past both ends are the zero padding */
        const VEC z = {0};
        const VEC A0 = z + a0, A1 = z + a1, A2 = z + a2, B0 = z + b0, B1 = z + b1, B2 = z + b2;
        const VEC C0 = z + c0, C1 = z + c1, C2 = z + c2;
        VEC up = z, uc, mp = z, mc, dp = z, dc; /* registers before and at i of each row */
        VLOAD(uc, r0), VLOAD(mc, r1), VLOAD(dc, r2);
        for (size_t i = 0; i < w; i += VL) {
            VEC un = z, mn = z, dn = z;
            __builtin_prefetch(r2 + i + w);
            if (i + VL < w)
                VLOAD(un, r0 + i + VL), VLOAD(mn, r1 + i + VL), VLOAD(dn, r2 + i + VL);
            const VEC v = A0 * VSHL(up, uc) + A1 * uc + A2 * VSHR(uc, un) + B0 * VSHL(mp, mc) +
                          B1 * mc + B2 * VSHR(mc, mn) + C0 * VSHL(dp, dc) + C1 * dc +
                          C2 * VSHR(dc, dn);
            VSTORE(orow + i, v);
            up = uc, uc = un, mp = mc, mc = mn, dp = dc, dc = dn;
        }
        return;
    }
#endif
    if (w == 1) {
        orow[0] = a1 * r0[0] + b1 * r1[0] + c1 * r2[0];
        return;
    }
    orow[0] = a1 * r0[0] + a2 * r0[1] + b1 * r1[0] + b2 * r1[1] + c1 * r2[0] + c2 * r2[1];
    size_t i = 1;
    const DVEC z = {0};
    const DVEC A0 = z + a0, A1 = z + a1, A2 = z + a2, B0 = z + b0, B1 = z + b1, B2 = z + b2;
    const DVEC C0 = z + c0, C1 = z + c1, C2 = z + c2;
    for (; i + DVL < w; i += DVL) {
        DVEC u0, u1, u2, m0, m1, m2, d0, d1, d2;
        __builtin_prefetch(r2 + i + w); /* the new row of the next call */
        DVLOAD(u0, r0 + i - 1), DVLOAD(u1, r0 + i), DVLOAD(u2, r0 + i + 1);
        DVLOAD(m0, r1 + i - 1), DVLOAD(m1, r1 + i), DVLOAD(m2, r1 + i + 1);
        DVLOAD(d0, r2 + i - 1), DVLOAD(d1, r2 + i), DVLOAD(d2, r2 + i + 1);
        const DVEC v = A0 * u0 + A1 * u1 + A2 * u2 + B0 * m0 + B1 * m1 + B2 * m2 + C0 * d0 +
                       C1 * d1 + C2 * d2;
        DVSTORE(orow + i, v);
    }
    for (; i < w - 1; i++)
        orow[i] = a0 * r0[i - 1] + a1 * r0[i] + a2 * r0[i + 1] + b0 * r1[i - 1] + b1 * r1[i] +
                  b2 * r1[i + 1] + c0 * r2[i - 1] + c1 * r2[i] + c2 * r2[i + 1];
    orow[w - 1] = a0 * r0[w - 2] + a1 * r0[w - 1] + b0 * r1[w - 2] + b1 * r1[w - 1] +
                  c0 * r2[w - 2] + c1 * r2[w - 1];
}

/*
 * One output row of the 3x3 correlation (zero padding) of the nearest 2x upsampling of a
 * plane, from that plane's rows without the upsampled rows: output pixel 2j reads source
 * columns j-1, j and 2j+1 reads j, j+1, each with the kernel's columns summed over the
 * upsampled pixels that repeat one source pixel (the same for rows: up_kernel).  orow[0:2wl]
 * from the source rows r0 (above) and r1 (below; either NULL past the border: no term);
 * q [8]: even outputs q[0] r0[j-1] + q[1] r0[j] + q[2] r1[j-1] + q[3] r1[j], odd outputs
 * q[4] r0[j] + q[5] r0[j+1] + q[6] r1[j] + q[7] r1[j+1].  4 multiply-adds per output instead
 * of 9, in another order: not dw_row's bits (within rounding).
 */
VBP_SAME_CODE static void FN(dw_up_row)(real *restrict orow, const real *restrict r0,
                                        const real *restrict r1, const real q[8], size_t wl)
{
    real k[8];
    for (int i = 0; i < 8; i++) /* a missing row: the other one with zero weights */
        k[i] = (i % 4 < 2 ? r0 : r1) ? q[i] : 0;
    r0 = r0 ? r0 : r1, r1 = r1 ? r1 : r0;
#define EVEN(j) (k[0] * r0[(j) - 1] + k[1] * r0[j] + k[2] * r1[(j) - 1] + k[3] * r1[j])
#define ODD(j) (k[4] * r0[j] + k[5] * r0[(j) + 1] + k[6] * r1[j] + k[7] * r1[(j) + 1])
    if (wl == 1) {
        orow[0] = k[1] * r0[0] + k[3] * r1[0], orow[1] = k[4] * r0[0] + k[6] * r1[0];
        return;
    }
    orow[0] = k[1] * r0[0] + k[3] * r1[0], orow[1] = ODD(0);
    size_t j = 1;
    const DVEC z = {0};
    const DVEC K0 = z + k[0], K1 = z + k[1], K2 = z + k[2], K3 = z + k[3];
    const DVEC K4 = z + k[4], K5 = z + k[5], K6 = z + k[6], K7 = z + k[7];
    for (; j + DVL < wl; j += DVL) {
        DVEC a0, a1, a2, b0, b1, b2;
        DVLOAD(a0, r0 + j - 1), DVLOAD(a1, r0 + j), DVLOAD(a2, r0 + j + 1);
        DVLOAD(b0, r1 + j - 1), DVLOAD(b1, r1 + j), DVLOAD(b2, r1 + j + 1);
        const DVEC e = K0 * a0 + K1 * a1 + K2 * b0 + K3 * b1;
        const DVEC o = K4 * a1 + K5 * a2 + K6 * b1 + K7 * b2;
        DVSTORE(orow + 2 * j, DVZIP_LO(e, o));
        DVSTORE(orow + 2 * j + DVL, DVZIP_HI(e, o));
    }
    for (; j + 1 < wl; j++)
        orow[2 * j] = EVEN(j), orow[2 * j + 1] = ODD(j);
    orow[2 * j] = EVEN(j);
    orow[2 * j + 1] = k[4] * r0[j] + k[6] * r1[j];
#undef EVEN
#undef ODD
}

/* The weights of dw_up_row for output rows of parity py (0: even) from the 3x3 kernel k:
 * even rows read source rows k-1 (kernel row 0) and k (rows 1 + 2), odd rows k (0 + 1) and
 * k+1 (2); then the same for columns. */
static void FN(up_kernel)(real q[8], const real *k, int py)
{
    real v[2][3]; /* kernel rows summed for the source rows above and below */
    for (int x = 0; x < 3; x++) {
        v[0][x] = py ? k[x] + k[3 + x] : k[x];
        v[1][x] = py ? k[6 + x] : k[3 + x] + k[6 + x];
    }
    for (int r = 0; r < 2; r++) {
        q[2 * r] = v[r][0], q[2 * r + 1] = v[r][1] + v[r][2];
        q[4 + 2 * r] = v[r][0] + v[r][1], q[4 + 2 * r + 1] = v[r][2];
    }
}

/* Rows [ya, yb) of o[h,w] = 3x3 correlation of x[h,w] with k, zero padding. */
static void FN(dw_rows)(real *restrict o, const real *restrict x, const real *k, size_t h,
                        size_t w, size_t ya, size_t yb)
{
    for (size_t y = ya; y < yb; y++)
        FN(dw_row)(o + y * w, y > 0 ? x + (y - 1) * w : NULL, x + y * w,
                   y + 1 < h ? x + (y + 1) * w : NULL, k, w);
}

void FN(vbp_dwconv_forward)(real *out, const real *in, const real *wt, size_t n, size_t c,
                            size_t h, size_t w, int nt)
{
    const size_t P = h * w;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++)
        FN(dw_rows)(out + pl * P, in + pl * P, wt + (pl % c) * 9, h, w, 0, h);
}

/*
 * acc[3*ky + kx] += sum_i g[i] * r_ky[i + kx - 1] for one output row g and the
 * input rows above, at and below it (r0/r2 NULL at the border: no term).
 */
static void FN(dw_row_grad)(double acc[9], const real *restrict g, const real *restrict r0,
                            const real *restrict r1, const real *restrict r2, size_t w)
{
    const real *rows[3] = {r0 ? r0 : r1, r1, r2 ? r2 : r1};
    const real *restrict u = rows[0], *restrict m = rows[1], *restrict d = rows[2];
    real s[9] = {0};
#if VBP_DW_SHIFT
    if (w % VL == 0) { /* as dw_row: whole registers, zeros past both ends */
        VEC a[9], rc[3], rp[3], rn[3];
        const VEC z = {0};
        for (int j = 0; j < 9; j++)
            a[j] = z;
        for (int ky = 0; ky < 3; ky++)
            rp[ky] = z, VLOAD(rc[ky], rows[ky]);
        for (size_t i = 0; i < w; i += VL) {
            VEC gv;
            VLOAD(gv, g + i);
            __builtin_prefetch(d + i + w), __builtin_prefetch(g + i + w);
            for (int ky = 0; ky < 3; ky++) {
                rn[ky] = z;
                if (i + VL < w)
                    VLOAD(rn[ky], rows[ky] + i + VL);
                a[3 * ky] += gv * VSHL(rp[ky], rc[ky]);
                a[3 * ky + 1] += gv * rc[ky];
                a[3 * ky + 2] += gv * VSHR(rc[ky], rn[ky]);
                rp[ky] = rc[ky], rc[ky] = rn[ky];
            }
        }
        for (int j = 0; j < 9; j++)
            for (size_t l = 0; l < VL; l++)
                s[j] += a[j][l];
    } else
#endif
    if (w > 1) {
        /* Explicit vectors: nine accumulators, horizontal sums once per row. */
        DVEC a[9];
        for (int j = 0; j < 9; j++)
            a[j] = (DVEC){0};
        size_t i = 1;
        for (; i + DVL < w; i += DVL) {
            DVEC gv, v;
            /* The rows of the next call (a prefetch past the plane's end does not fault). */
            __builtin_prefetch(d + i + w);
            __builtin_prefetch(g + i + w);
            DVLOAD(gv, g + i);
            const real *rr[3] = {u, m, d};
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    DVLOAD(v, rr[ky] + i + kx - 1);
                    a[3 * ky + kx] += gv * v;
                }
        }
        for (int j = 0; j < 9; j++)
            for (size_t l = 0; l < DVL; l++)
                s[j] += a[j][l];
        for (; i < w - 1; i++) {
            const real gi = g[i];
            s[0] += gi * u[i - 1], s[1] += gi * u[i], s[2] += gi * u[i + 1];
            s[3] += gi * m[i - 1], s[4] += gi * m[i], s[5] += gi * m[i + 1];
            s[6] += gi * d[i - 1], s[7] += gi * d[i], s[8] += gi * d[i + 1];
        }
        for (int ky = 0; ky < 3; ky++) { /* the two border pixels */
            const real *r = rows[ky];
            s[3 * ky + 1] += g[0] * r[0] + g[w - 1] * r[w - 1];
            s[3 * ky + 2] += g[0] * r[1];
            s[3 * ky] += g[w - 1] * r[w - 2];
        }
    } else {
        for (int ky = 0; ky < 3; ky++)
            s[3 * ky + 1] = g[0] * rows[ky][0];
    }
    for (int ky = 0; ky < 3; ky++)
        if ((ky == 0 && r0) || ky == 1 || (ky == 2 && r2))
            for (int kx = 0; kx < 3; kx++)
                acc[3 * ky + kx] += s[3 * ky + kx];
}

void FN(vbp_dwconv_reduce)(real *dwt, const double *part, size_t n, size_t c)
{
    for (size_t ci = 0; ci < c; ci++)
        for (int i = 0; i < 9; i++) {
            double s = 0;
            for (size_t ni = 0; ni < n; ni++)
                s += part[(ni * c + ci) * 9 + i];
            dwt[ci * 9 + i] += (real)s;
        }
}

void FN(vbp_dwconv_backward)(real *din, real *dwt, const real *dout, const real *in,
                             const real *wt, size_t n, size_t c, size_t h, size_t w, double *part,
                             int nt)
{
    const size_t P = h * w;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        const real *g = dout + pl * P, *x = in + pl * P, *k = wt + (pl % c) * 9;
        if (din) {
            /* The input gradient is the correlation of dout with the flipped kernel. */
            real flip[9];
            for (int i = 0; i < 9; i++)
                flip[i] = k[8 - i];
            FN(dw_rows)(din + pl * P, g, flip, h, w, 0, h);
        }
        double *acc = part + pl * 9;
        for (int i = 0; i < 9; i++)
            acc[i] = 0;
        for (size_t y = 0; y < h; y++)
            FN(dw_row_grad)(acc, g + y * w, y ? x + (y - 1) * w : NULL, x + y * w,
                            y + 1 < h ? x + (y + 1) * w : NULL, w);
    }
    FN(vbp_dwconv_reduce)(dwt, part, n, c);
}

/*
 * NV vectors of pixels from t on, outputs o0..o0+NO-1: out[o, t:t+NV*VL] = act(sc[j] *
 * sum_i W(o,i) * in[i, t:t+NV*VL] + bs[j]) * ps[j] + pt[j] (j = o - o0; the last affine map only
 * when post), where W(o,i) = wt[o*wso + i*wsi] (the same code applies W and its transpose), act
 * is ReLU when relu != 0, channel planes are Pi apart in `in` and Po apart in `out`.  The NO*NV
 * accumulators stay in registers over the ni input channels.
 */
INLINE void FN(pw_step)(const int NO, const int NV, real *restrict out, const real *restrict in,
                        const real *wt, size_t wso, size_t wsi, const real *sc, const real *bs,
                        int relu, const real *ps, const real *pt, int post, size_t o0, size_t ni,
                        size_t Pi, size_t Po, size_t t)
{
    VEC a[VBP_PW_NO][VBP_PW_NV];
    for (int j = 0; j < NO; j++)
        for (int v = 0; v < NV; v++)
            a[j][v] = (VEC){0};
    for (size_t i = 0; i < ni; i++) {
        VEC x[VBP_PW_NV];
        for (int v = 0; v < NV; v++)
            VLOAD(x[v], in + i * Pi + t + v * VL);
        for (int j = 0; j < NO; j++) {
            const real w = wt[(o0 + j) * wso + i * wsi];
            for (int v = 0; v < NV; v++)
                a[j][v] += w * x[v];
        }
    }
    for (int j = 0; j < NO; j++)
        for (int v = 0; v < NV; v++) {
            VEC r = a[j][v] * sc[j] + bs[j];
            if (relu)
                r = (VEC)((__typeof__(r > r))r & (r > (VEC){0})); /* NaN -> 0 */
            if (post)
                r = r * ps[j] + pt[j];
            VSTORE(out + (o0 + j) * Po + t + v * VL, r);
        }
}

/* Outputs o0..o0+NO-1 over pixels [0, len) of a tile: pw_step with scale/bias NULL = 1/0 and
 * the last affine map when pscale != NULL. */
INLINE void FN(pw_rows)(const int NO, real *restrict out, const real *restrict in,
                        const real *wt, size_t wso, size_t wsi, const real *bias,
                        const real *scale, int relu, const real *pscale, const real *pshift,
                        size_t o0, size_t ni, size_t Pi, size_t Po, size_t len)
{
    real sc[VBP_PW_NO], bs[VBP_PW_NO], ps[VBP_PW_NO], pt[VBP_PW_NO];
    const int post = pscale != NULL;
    for (int j = 0; j < NO; j++) {
        sc[j] = scale ? scale[o0 + j] : 1;
        bs[j] = bias ? bias[o0 + j] : 0;
        ps[j] = post ? pscale[o0 + j] : 1;
        pt[j] = post ? pshift[o0 + j] : 0;
    }
    size_t t = 0;
    for (; t + VBP_PW_NV * VL <= len; t += VBP_PW_NV * VL)
        FN(pw_step)(NO, VBP_PW_NV, out, in, wt, wso, wsi, sc, bs, relu, ps, pt, post, o0, ni, Pi,
                    Po, t);
    for (; t + VL <= len; t += VL)
        FN(pw_step)(NO, 1, out, in, wt, wso, wsi, sc, bs, relu, ps, pt, post, o0, ni, Pi, Po, t);
    for (; t < len; t++)
        for (int j = 0; j < NO; j++) {
            real acc = 0;
            for (size_t i = 0; i < ni; i++)
                acc += wt[(o0 + j) * wso + i * wsi] * in[i * Pi + t];
            acc = acc * sc[j] + bs[j];
            acc = relu && !(acc > 0) ? 0 : acc;
            out[(o0 + j) * Po + t] = post ? acc * ps[j] + pt[j] : acc;
        }
}

/* Most reals of a tile's inputs that pw_tile packs (larger tiles run unpacked). */
#define PW_PACK (128 * VBP_PW_TILE)

/*
 * All no outputs of a tile.  With pack, more than 8 input rows are first copied next to each
 * other: with planes a multiple of 4 KiB apart (512x288 and its halves) every row of a tile
 * falls in the same L1 cache set, and the register tiles' loads missed L1 (the AVX2 pointwise
 * forward of 48 and 96 channels took 1.2-1.4x the time).  The arithmetic is the same either
 * way; callers whose rows are not 4 KiB apart (vbp_sep_eval) save the copy.
 */
INLINE void FN(pw_tile)(real *restrict out, const real *restrict in, const real *wt, size_t wso,
                        size_t wsi, const real *bias, const real *scale, int relu,
                        const real *pscale, const real *pshift, size_t no, size_t ni, size_t Pi,
                        size_t Po, size_t len, int pack)
{
    real pk[PW_PACK] __attribute__((aligned(64)));
    if (pack && ni > 8 && ni * len <= PW_PACK && Pi != len) { /* 8 rows fit a set's ways */
        for (size_t i = 0; i < ni; i++)
            memcpy(pk + i * len, in + i * Pi, len * sizeof *pk);
        in = pk, Pi = len;
    }
#define PW_ROWS(NO) FN(pw_rows)(NO, out, in, wt, wso, wsi, bias, scale, relu, pscale, pshift, o, \
                                ni, Pi, Po, len)
    size_t o = 0;
    for (; o + VBP_PW_NO <= no; o += VBP_PW_NO)
        PW_ROWS(VBP_PW_NO);
#if VBP_PW_NO > 4
    for (; o + 4 <= no; o += 4)
        PW_ROWS(4);
#endif
    for (; o + 2 <= no; o += 2)
        PW_ROWS(2);
    for (; o < no; o++)
        PW_ROWS(1);
#undef PW_ROWS
}

/* pw_tile of the forward, W = wt [no, ni]: one function with the stride fixed, which every
 * caller runs (the fused eval block the same instructions as vbp_pwconv_forward: isa.h).  The
 * epilogue's choices are constants in each of its inlined copies: testing them at run time in
 * the register tile's epilogue cost FastV1 8% (docs/performance.md). */
VBP_SAME_CODE static void FN(pw_tile_fwd)(real *restrict out, const real *restrict in,
                                          const real *wt, const real *bias, const real *scale,
                                          int relu, const real *pscale, const real *pshift,
                                          size_t no, size_t ni, size_t Pi, size_t Po, size_t len,
                                          int pack)
{
#define PW_TILE_FWD(RELU, PS, PT) \
    FN(pw_tile)(out, in, wt, ni, 1, bias, scale, RELU, PS, PT, no, ni, Pi, Po, len, pack)
    if (pscale && relu)
        PW_TILE_FWD(1, pscale, pshift);
    else if (pscale)
        PW_TILE_FWD(0, pscale, pshift);
    else if (relu)
        PW_TILE_FWD(1, NULL, NULL);
    else
        PW_TILE_FWD(0, NULL, NULL);
#undef PW_TILE_FWD
}

/* pu[o*ci + i] += sum_t g[o, t] * x[i, t] for an NO x NI block of (o, i), planes Pg apart in
 * g and Px apart in x. */
INLINE void FN(pw_wgrad)(const int NO, const int NI, real *pu, const real *restrict g,
                         const real *restrict x, size_t o0, size_t i0, size_t ci, size_t Pg,
                         size_t Px, size_t len)
{
    VEC a[VBP_WG_NO][VBP_WG_NI], gv[VBP_WG_NO];
    for (int j = 0; j < NO; j++)
        for (int k = 0; k < NI; k++)
            a[j][k] = (VEC){0};
    size_t t = 0;
    for (; t + VL <= len; t += VL) {
        for (int j = 0; j < NO; j++)
            VLOAD(gv[j], g + (o0 + j) * Pg + t);
        for (int k = 0; k < NI; k++) {
            VEC xv;
            VLOAD(xv, x + (i0 + k) * Px + t);
            for (int j = 0; j < NO; j++)
                a[j][k] += gv[j] * xv;
        }
    }
    for (int j = 0; j < NO; j++)
        for (int k = 0; k < NI; k++) {
            real s = 0;
            for (size_t l = 0; l < VL; l++)
                s += a[j][k][l];
            for (size_t q = t; q < len; q++)
                s += g[(o0 + j) * Pg + q] * x[(i0 + k) * Px + q];
            pu[(o0 + j) * ci + i0 + k] += s;
        }
}

static void FN(pw_wgrad_tile)(real *pu, const real *g, const real *x, size_t co, size_t ci,
                              size_t Pg, size_t Px, size_t len)
{
    size_t o = 0;
    for (; o + VBP_WG_NO <= co; o += VBP_WG_NO) {
        size_t i = 0;
        for (; i + VBP_WG_NI <= ci; i += VBP_WG_NI)
            FN(pw_wgrad)(VBP_WG_NO, VBP_WG_NI, pu, g, x, o, i, ci, Pg, Px, len);
        for (; i < ci; i++)
            FN(pw_wgrad)(VBP_WG_NO, 1, pu, g, x, o, i, ci, Pg, Px, len);
    }
    for (; o < co; o++)
        for (size_t i = 0; i < ci; i++)
            FN(pw_wgrad)(1, 1, pu, g, x, o, i, ci, Pg, Px, len);
}

void FN(vbp_pwconv_forward)(real *out, const real *in, const real *wt, const real *bias,
                            const real *scale, int relu, const real *pscale, const real *pshift,
                            size_t n, size_t ci, size_t co, size_t P, int nt)
{
    const size_t nch = (P + VBP_PW_CHUNK - 1) / VBP_PW_CHUNK;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t u = 0; u < n * nch; u++) {
        const size_t s = u / nch, p0 = (u % nch) * VBP_PW_CHUNK;
        const size_t p1 = p0 + VBP_PW_CHUNK < P ? p0 + VBP_PW_CHUNK : P;
        for (size_t t = p0; t < p1; t += VBP_PW_TILE) {
            const size_t len = t + VBP_PW_TILE < p1 ? VBP_PW_TILE : p1 - t;
            FN(pw_tile_fwd)(out + s * co * P + t, in + s * ci * P + t, wt, bias, scale, relu,
                            pscale, pshift, co, ci, P, P, len, 1);
        }
    }
}

/* Length of the tile of vbp_pwconv_forward that starts at pixel p of a plane of P pixels
 * (chunks of VBP_PW_CHUNK cut into tiles of VBP_PW_TILE from their start). */
static size_t FN(pw_tile_len)(size_t p, size_t P)
{
    const size_t ce = (p / VBP_PW_CHUNK + 1) * VBP_PW_CHUNK, e = ce < P ? ce : P;
    return e - p < VBP_PW_TILE ? e - p : VBP_PW_TILE;
}

/*
 * Depthwise rows [y0, y1) of all ci channels of concat(up2x(lo), x) (one sample: lo [cl,h/2,
 * w/2] upsampled by up, x [ci-cl,h,w]) into d: row y of channel c at d + c*ds + (y - y0)*w.
 * ub: scratch for y1 - y0 + 2 upsampled rows.
 */
static void FN(sep_dw_rows)(real *d, size_t ds, const real *lo, const real *x, const real *dwt,
                            size_t cl, size_t ci, size_t h, size_t w, int up, size_t y0,
                            size_t y1, real *ub)
{
    const size_t P = h * w, hl = h / 2, wl = w / 2;
    const size_t ya = y0 ? y0 - 1 : 0, yb = y1 < h ? y1 + 1 : h; /* input rows read */
    for (size_t c = 0; c < ci; c++) {
        const real *src = ub; /* input row y at src + (y - yo) * w */
        size_t yo = ya;
        if (c < cl && up == VBP_UP_POLY) { /* straight from lo's rows */
            const real *l = lo + c * hl * wl;
            real q[2][8];
            FN(up_kernel)(q[0], dwt + c * 9, 0), FN(up_kernel)(q[1], dwt + c * 9, 1);
            for (size_t y = y0; y < y1; y++) {
                const size_t k = y / 2, py = y & 1; /* source rows k-1, k or k, k+1 */
                const real *r0 = py ? l + k * wl : k ? l + (k - 1) * wl : NULL;
                const real *r1 = !py ? l + k * wl : k + 1 < hl ? l + (k + 1) * wl : NULL;
                FN(dw_up_row)(d + c * ds + (y - y0) * w, r0, r1, q[py], wl);
            }
            continue;
        }
        if (c >= cl) {
            src = x + (c - cl) * P, yo = 0;
        } else {
            FN(up_rows)(ub, lo + c * hl * wl, hl, wl, up, ya, yb);
        }
        for (size_t y = y0; y < y1; y++) {
            const real *m = src + (y - yo) * w;
            FN(dw_row)(d + c * ds + (y - y0) * w, y > 0 ? m - w : NULL, m,
                       y + 1 < h ? m + w : NULL, dwt + c * 9, w);
        }
    }
}

/*
 * out [n,co,h,w] = act(scale[o] * sum_i pwt[o,i] * d[i] + bias[o]) * pscale[o] + pshift[o], d =
 * depthwise 3x3 (dwt [ci,3,3]) of the block input concat(up2x(lo), x) (see layers.h).  Eval-mode sep block
 * without the depthwise and concat tensors: bands of whole pointwise tiles (the tiles of
 * vbp_pwconv_forward, so that every pixel goes through the same code path), the depthwise
 * rows under a band computed into scratch (kept from one band to the next when a row is
 * shared) and the pointwise run on them while they are in cache.  Per pixel, the same
 * arithmetic as vbp_up2x_forward, vbp_dwconv_forward and vbp_pwconv_forward in a row: the
 * same bits.  With hw != NULL the head 1x1 conv (hw [S,co], bias hb, no activation) follows
 * per tile and out is its output [n,S,h,w] (the block's own output is not stored).  With pool
 * != NULL (and hw NULL), the 2x2 max pooling of out into pool [n,co,h/2,w/2] follows each band,
 * on the rows it completed, while they are in cache; with stats != NULL (hw NULL), the
 * BatchNorm statistics of each band's outputs are added to the planes' (vbp_stats_add).
 */
void FN(vbp_sep_eval)(real *out, const real *lo, const real *x, const real *dwt,
                      const real *pwt, const real *bias, const real *scale, int relu,
                      const real *pscale, const real *pshift, const real *hw, const real *hb,
                      size_t S, size_t n, size_t cl, size_t ci, size_t co, size_t h, size_t w,
                      int up, real *pool, double *stats, real *scratch)
{
    const size_t P = h * w, M = VBP_SEP_ROWS(ci, h, w, sizeof(real)), so = hw ? S : co;
    /* Channels of the depthwise rows one cache line more than M rows apart: rows a multiple
     * of 4 KiB apart would share one L1 set (see pw_tile). */
    const size_t budget = VBP_SEP_BAND_PX(ci, sizeof(real)), ds = M * w + 64 / sizeof(real);
    /* depthwise rows [ci, ds], upsampled rows [M+2, w], block output tile [co, VBP_PW_TILE] */
    real *d = scratch, *ub = d + ci * ds, *tile = ub + (M + 2) * w;
    for (size_t s = 0; s < n; s++) {
        const real *xs = x + s * (ci - cl) * P, *ls = cl ? lo + s * cl * P / 4 : NULL;
        real *os = out + s * so * P, *ps = pool ? pool + s * co * P / 4 : NULL;
        size_t ra = 0, rb = 0; /* depthwise rows [ra, rb) are in d */
        size_t pooled = 0;     /* rows of pool done */
        double *st = stats ? stats + s * co * 2 : NULL;
        for (size_t i = 0; st && i < 2 * co; i++)
            st[i] = 0;
        for (size_t p0 = 0, p1; p0 < P; p0 = p1) {
            p1 = p0 + FN(pw_tile_len)(p0, P);
            while (p1 < P && p1 + FN(pw_tile_len)(p1, P) - p0 <= budget)
                p1 += FN(pw_tile_len)(p1, P);
            const size_t ya = p0 / w, yb = (p1 - 1) / w + 1; /* rows under pixels [p0, p1) */
            if (ya >= rb) {
                ra = rb = ya;
            } else if (ya > ra) { /* keep the shared rows [ya, rb) */
                for (size_t c = 0; c < ci; c++)
                    memmove(d + c * ds, d + c * ds + (ya - ra) * w, (rb - ya) * w * sizeof *d);
                ra = ya;
            }
            FN(sep_dw_rows)(d + (rb - ra) * w, ds, ls, xs, dwt, cl, ci, h, w, up, rb, yb, ub);
            rb = yb;
            for (size_t t = p0, len; t < p1; t += len) {
                len = FN(pw_tile_len)(t, P);
                const real *in = d + (t - ra * w);
                if (!hw) {
                    FN(pw_tile_fwd)(os + t, in, pwt, bias, scale, relu, pscale, pshift, co, ci, ds,
                                    P, len, 0);
                    continue;
                }
                FN(pw_tile_fwd)(tile, in, pwt, bias, scale, relu, pscale, pshift, co, ci, ds,
                                VBP_PW_TILE, len, 0);
                FN(pw_tile_fwd)(os + t, tile, hw, hb, NULL, 0, NULL, NULL, S, co, VBP_PW_TILE, P,
                                len, 0);
            }
            for (size_t o = 0; st && o < co; o++) /* the band's outputs are in L2 */
                FN(vbp_stats_add)(st + 2 * o, p0, os + o * P + p0, p1 - p0);
            for (; ps && 2 * pooled + 2 <= p1 / w; pooled++)
                for (size_t o = 0; o < co; o++) {
                    const real *r = os + o * P + 2 * pooled * w;
                    FN(vbp_pool_row)(ps + o * P / 4 + pooled * (w / 2), r, r + w, w / 2);
                }
        }
    }
}

/*
 * Pointwise backward of len pixels of one sample (every pointer at the span's first pixel;
 * channel planes Pd apart in din, Pg in dout, Px in x): din (NULL: none) and pu[0:co*ci+co] =
 * the span's weight and bias sums.  The spans are vbp_pwconv_backward_part's chunks.
 */
static void FN(pw_backward_span)(real *din, size_t Pd, real *pu, const real *dout, size_t Pg,
                                 const real *x, size_t Px, const real *wt, size_t ci, size_t co,
                                 size_t len)
{
    memset(pu, 0, (co * ci + co) * sizeof *pu);
    if (din)
        for (size_t t = 0; t < len; t += VBP_PW_TILE) {
            const size_t l = t + VBP_PW_TILE < len ? VBP_PW_TILE : len - t;
            FN(pw_tile)(din + t, dout + t, wt, 1, ci, NULL, NULL, 0, NULL, NULL, ci, co, Pg, Pd, l,
                        1);
        }
    /* Longer spans for the weight gradient: fewer horizontal sums of the accumulators. */
    for (size_t t = 0; t < len; t += PW_WG_SPAN) {
        const size_t l = t + PW_WG_SPAN < len ? PW_WG_SPAN : len - t;
        const real *g = dout + t;
        FN(pw_wgrad_tile)(pu, g, x + t, co, ci, Pg, Px, l);
        for (size_t o = 0; o < co; o++) {
            const real *restrict go = g + o * Pg;
            real b = 0;
#pragma omp simd reduction(+ : b)
            for (size_t q = 0; q < l; q++)
                b += go[q];
            pu[co * ci + o] += b;
        }
    }
}

void FN(vbp_pwconv_backward_part)(real *din, real *part, const real *dout, const real *in,
                                  const real *wt, size_t n, size_t ci, size_t co, size_t P, int nt)
{
    const size_t nch = (P + VBP_PW_CHUNK - 1) / VBP_PW_CHUNK, units = n * nch;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t u = 0; u < units; u++) {
        const size_t s = u / nch, p0 = (u % nch) * VBP_PW_CHUNK;
        const size_t len = p0 + VBP_PW_CHUNK < P ? VBP_PW_CHUNK : P - p0;
        FN(pw_backward_span)(din ? din + s * ci * P + p0 : NULL, P, part + u * (co * ci + co),
                             dout + s * co * P + p0, P, in + s * ci * P + p0, P, wt, ci, co,
                             len);
    }
}

/*
 * Training backward of a sep block (depthwise 3x3 dwt [ci,3,3], then pointwise pwt [co,ci]),
 * without its depthwise output, the pointwise input gradient or the concatenated input in
 * memory: per sample and per chunk of VBP_PW_CHUNK pixels, the input rows of the upsampled
 * channels under the chunk are made (U), the depthwise rows under the chunk recomputed (D),
 * the pointwise backward of the chunk run on them (input gradient into T, which keeps the
 * rows the next chunk's depthwise rows need), then the depthwise backward of the rows whose
 * T rows are complete, while the inputs and T are in cache.  The block input is
 * concat(up2x(lo), x) as in vbp_sep_eval (lo upsampled by up).  Results: pw_part as vbp_pwconv_backward_part,
 * dw_part [n*ci*9] doubles (per-plane sums) and the input gradient as vbp_dwconv_backward, bit
 * for bit: channels c >= cl into dx [n,ci-cl,h,w] (NULL: no input gradient), and for c < cl
 * each row goes at once through the upsampling's backward into dlo [n,cl,h/2,w/2] (the
 * gradient of lo: vbp_up2x_backward's bits, the rows taken in the same order).  With n = 1, dx
 * may be dout's buffer: each chunk of dout is read before input-gradient rows over it are
 * written.  One thread; scratch: VBP_SEP_BWD_SCRATCH(ci, w) reals.
 */
void FN(vbp_sep_backward_part)(real *dlo, real *dx, real *pw_part, double *dw_part,
                               const real *dout, const real *lo, const real *x, const real *dwt,
                               const real *pwt, size_t n, size_t cl, size_t ci, size_t co,
                               size_t h, size_t w, int up, real *scratch)
{
    const size_t P = h * w, nch = (P + VBP_PW_CHUNK - 1) / VBP_PW_CHUNK, K = co * ci + co;
    const size_t hl = h / 2, wl = w / 2;
    /* U rows [ua, ...), D rows [ya, yb) of the chunk, T rows [ta, ...): channels ds reals
     * apart (one cache line more than whole rows: see pw_tile) */
    const size_t ds = VBP_SEP_BWD_ROWS(w) * w + 64 / sizeof(real);
    real *D = scratch, *T = D + ci * ds, *U = T + ci * ds, *R = U + ci * ds; /* R: one row */
    for (size_t s = 0; s < n; s++) {
        const real *xs = x + s * (ci - cl) * P, *ls = cl ? lo + s * cl * P / 4 : NULL;
        const real *gs = dout + s * co * P;
        real *dls = dx && cl ? dlo + s * cl * P / 4 : NULL;
        real *dxs = dx ? dx + s * (ci - cl) * P : NULL;
        if (dls)
            memset(dls, 0, cl * P / 4 * sizeof *dls);
        double *acc = dw_part + s * ci * 9;
        for (size_t i = 0; i < ci * 9; i++)
            acc[i] = 0;
        size_t ta = 0, done = 0; /* T holds rows from ta on; depthwise backward rows < done */
        for (size_t u = 0; u < nch; u++) {
            const size_t p0 = u * VBP_PW_CHUNK, p1 = p0 + VBP_PW_CHUNK < P ? p0 + VBP_PW_CHUNK : P;
            const size_t ya = p0 / w, yb = (p1 - 1) / w + 1, keep = done ? done - 1 : 0;
            /* Depthwise row y reads T rows y-1..y+1: all rows once the last chunk is in. */
            const size_t ready = p1 == P ? h : (p1 / w ? p1 / w - 1 : 0);
            /* Input rows read below: [ua, ue) (D's rows and the weight gradient's) */
            const size_t lo_row = done < ya ? done : ya, ua = lo_row ? lo_row - 1 : 0;
            const size_t ue = yb < h ? yb + 1 : h;
            for (size_t c = 0; c < cl; c++)
                FN(up_rows)(U + c * ds, ls + c * hl * wl, hl, wl, up, ua, ue);
#define IN_ROW(c, y) ((c) < cl ? U + (c) * ds + ((y) - ua) * w : xs + ((c) - cl) * P + (y) * w)
            for (size_t c = 0; c < ci; c++)
                for (size_t y = ya; y < yb; y++)
                    FN(dw_row)(D + c * ds + (y - ya) * w, y ? IN_ROW(c, y - 1) : NULL, IN_ROW(c, y),
                               y + 1 < h ? IN_ROW(c, y + 1) : NULL, dwt + c * 9, w);
            if (keep > ta) { /* drop the T rows no later depthwise row reads */
                for (size_t c = 0; c < ci; c++)
                    memmove(T + c * ds, T + c * ds + (keep - ta) * w, (p0 - keep * w) * sizeof *T);
                ta = keep;
            }
            FN(pw_backward_span)(T + (p0 - ta * w), ds, pw_part + (s * nch + u) * K, gs + p0, P,
                                 D + (p0 - ya * w), ds, pwt, ci, co, p1 - p0);
            for (size_t c = 0; c < ci; c++) {
                const real *k = dwt + c * 9, *t = T + c * ds;
                const real flip[9] = {k[8], k[7], k[6], k[5], k[4], k[3], k[2], k[1], k[0]};
                real *dc = !dx ? NULL : c < cl ? NULL : dxs + (c - cl) * P;
                for (size_t y = done; y < ready; y++) {
                    const real *m = t + (y - ta) * w, *above = y ? m - w : NULL;
                    const real *down = y + 1 < h ? m + w : NULL;
                    if (dc)
                        FN(dw_row)(dc + y * w, above, m, down, flip, w);
                    else if (dls) { /* an upsampled row's gradient: straight into lo's */
                        FN(dw_row)(R, above, m, down, flip, w);
                        FN(up_row_backward)(dls + c * hl * wl, R, y, hl, wl, up);
                    }
                    FN(dw_row_grad)(acc + c * 9, m, y ? IN_ROW(c, y - 1) : NULL, IN_ROW(c, y),
                                    y + 1 < h ? IN_ROW(c, y + 1) : NULL, w);
                }
            }
#undef IN_ROW
            done = ready > done ? ready : done;
        }
    }
}

void FN(vbp_pwconv_reduce)(real *dwt, real *dbias, const real *part, size_t units, size_t ci,
                           size_t co)
{
    const size_t K = co * ci + co;
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

void FN(vbp_pwconv_backward)(real *din, real *dwt, real *dbias, const real *dout,
                             const real *in, const real *wt, size_t n, size_t ci, size_t co,
                             size_t P, real *part, int nt)
{
    FN(vbp_pwconv_backward_part)(din, part, dout, in, wt, n, ci, co, P, nt);
    FN(vbp_pwconv_reduce)(dwt, dbias, part, VBP_PW_UNITS(n, P), ci, co);
}

#undef PW_WG_SPAN
#undef PW_PACK
#undef INLINE
#endif

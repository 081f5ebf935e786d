/*
 * layers_rows.h - per-row kernels shared by several layer files (internal; included inside
 * the template pass of layers_tmpl.h, so `real` and FN() are those of the pass): the rows
 * of the 2x upsampling (bilinear and nearest), used by vbp_up2x_forward (layers_pool.c) and by the fused
 * sep block passes (layers_conv.c), which must compute the same values bit for bit; the rows
 * of the 2x2 max pooling and of the BatchNorm+ReLU apply, used alone and fused
 * (vbp_bnrelu_apply_pool, vbp_sep_eval); the BatchNorm statistics of a piece of a plane
 * (vbp_bn_stats and the fused pass).
 * No include guard: included once per pass.
 */

/* o[x] = max of r0[2x], r0[2x+1], r1[2x], r1[2x+1] for x < wo (strict '>' scan: the first
 * maximum in row-major order, as PyTorch). */
static inline void FN(vbp_pool_row)(real *restrict o, const real *restrict r0,
                                    const real *restrict r1, size_t wo)
{
    for (size_t x = 0; x < wo; x++) {
        real m = r0[2 * x];
        m = r0[2 * x + 1] > m ? r0[2 * x + 1] : m;
        m = r1[2 * x] > m ? r1[2 * x] : m;
        o[x] = r1[2 * x + 1] > m ? r1[2 * x + 1] : m;
    }
}

/*
 * BatchNorm statistics of one plane, by pieces: st[0] (sum) and st[1] (sum of squared
 * deviations from the mean) of the n values seen so far += those of x[0:len], in pieces of at
 * most 1024 values summed in real and combined in double by the pairwise update of Chan,
 * Golub and LeVeque (no cancellation: each piece's deviations are taken from its own mean).
 * The one implementation of the statistics (vbp_bn_stats and the fused training pass of
 * vbp_sep_eval).
 */
static inline void FN(vbp_stats_add)(double st[2], size_t n, const real *restrict x, size_t len)
{
    for (size_t b = 0; b < len; b += 1024) {
        const size_t l = len - b < 1024 ? len - b : 1024;
        const real *restrict p = x + b;
        real s = 0, q = 0;
#pragma omp simd reduction(+ : s)
        for (size_t i = 0; i < l; i++)
            s += p[i];
        const real m = s / (real)l;
#pragma omp simd reduction(+ : q)
        for (size_t i = 0; i < l; i++)
            q += (p[i] - m) * (p[i] - m);
        const size_t na = n + b;
        if (na) {
            const double d = (double)s / (double)l - st[0] / (double)na;
            st[1] += d * d * ((double)na * (double)l / (double)(na + l));
        }
        st[0] += s;
        st[1] += q;
    }
}

/* The BatchNorm affine map of one channel, before the ReLU, on reals or vectors: the one
 * expression of it, so that the backward's mask (v > 0) is the forward's bit for bit. */
#undef VBP_BN_AFFINE
#define VBP_BN_AFFINE(z, scale, shift) ((z) * (scale) + (shift))

/* y[i] = max(0, z[i] * scale + shift) for i < len (without the max when relu is 0). */
static inline void FN(vbp_bnrelu_row)(real *restrict y, const real *restrict z, real scale,
                                      real shift, int relu, size_t len)
{
    if (!relu) {
        for (size_t i = 0; i < len; i++)
            y[i] = VBP_BN_AFFINE(z[i], scale, shift);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        const real v = VBP_BN_AFFINE(z[i], scale, shift);
        y[i] = v > 0 ? v : 0;
    }
}

/*
 * 1-D bilinear 2x upsampling with half-pixel centres and edge clamping:
 * output 0 copies input 0; output 2k (k >= 1) = .25 x[k-1] + .75 x[k];
 * output 2k+1 = .75 x[k] + .25 x[min(k+1, len-1)].
 * dst[0:2len] = a*ra up-sampled + b*rb up-sampled (rb may be NULL when b = 0).
 */
#if defined(__clang__)
/* clang leaves up_row's interleaved even/odd stores scalar: explicit vectors of one register
 * (isa.h), interleaved with __builtin_shufflevector (ROW_LO, ROW_HI: the lanes of even/odd). */
#if VBP_REAL_IS_FLOAT
#define ROW_VL (VBP_VBYTES / 4)
#else
#define ROW_VL (VBP_VBYTES / 8)
#endif
#if ROW_VL == 2
#define ROW_LO 0, 2
#define ROW_HI 1, 3
#elif ROW_VL == 4
#define ROW_LO 0, 4, 1, 5
#define ROW_HI 2, 6, 3, 7
#elif ROW_VL == 8
#define ROW_LO 0, 8, 1, 9, 2, 10, 3, 11
#define ROW_HI 4, 12, 5, 13, 6, 14, 7, 15
#elif ROW_VL == 16
#define ROW_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define ROW_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#else
#error "unexpected vector length"
#endif
typedef real FN(rowv) __attribute__((vector_size(VBP_VBYTES), aligned(sizeof(real)), may_alias));
#endif

/* unused: not every file that includes this header upsamples */
VBP_SAME_CODE __attribute__((unused)) static void FN(up_row)(real *restrict dst,
                                                             const real *restrict ra,
                                                             const real *restrict rb, real a,
                                                             real b, size_t len)
{
    if (!rb)
        rb = ra, b = 0;
    /* The row after rb, which the next calls read (a prefetch past the plane does not fault). */
    for (size_t i = 0; i < len; i += 64 / sizeof(real))
        __builtin_prefetch(rb + len + i);
    const real q = (real)0.25, t = (real)0.75;
    const real v0 = a * ra[0] + b * rb[0], vl = a * ra[len - 1] + b * rb[len - 1];
    dst[0] = v0;
    if (len == 1) {
        dst[1] = v0;
        return;
    }
    dst[1] = t * v0 + q * (a * ra[1] + b * rb[1]);
    size_t k = 1;
#if defined(__clang__)
    typedef FN(rowv) rv;
    for (; k + ROW_VL < len; k += ROW_VL) {
        const rv vm = a * *(const rv *)(ra + k - 1) + b * *(const rv *)(rb + k - 1);
        const rv v = a * *(const rv *)(ra + k) + b * *(const rv *)(rb + k);
        const rv vp = a * *(const rv *)(ra + k + 1) + b * *(const rv *)(rb + k + 1);
        const rv even = q * vm + t * v, odd = t * v + q * vp;
        *(rv *)(dst + 2 * k) = __builtin_shufflevector(even, odd, ROW_LO);
        *(rv *)(dst + 2 * k + ROW_VL) = __builtin_shufflevector(even, odd, ROW_HI);
    }
#endif
    for (; k < len - 1; k++) {
        const real vm = a * ra[k - 1] + b * rb[k - 1], v = a * ra[k] + b * rb[k];
        const real vp = a * ra[k + 1] + b * rb[k + 1];
        dst[2 * k] = q * vm + t * v;
        dst[2 * k + 1] = t * v + q * vp;
    }
    dst[2 * len - 2] = q * (a * ra[len - 2] + b * rb[len - 2]) + t * vl;
    dst[2 * len - 1] = vl;
}
#if defined(__clang__)
#undef ROW_VL
#undef ROW_LO
#undef ROW_HI
#endif

/* Vertical taps of output row oy of a 2x upsampling of len rows: rows i0, i1, weights l0, l1. */
static inline void FN(up_taps)(size_t oy, size_t len, size_t *i0, size_t *i1, real *l0, real *l1)
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

/* dst[0:len] += s * (adjoint of the 1-D upsampling applied to g[0:2len]). */
static inline void FN(up_row_adjoint)(real *restrict dst, const real *restrict g, real s,
                                      size_t len)
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

/* dst[0:2len] = each of src[0:len] twice: one row of the nearest-neighbour 2x upsampling, on
 * explicit vectors (gcc left the interleaved stores scalar): each register of src makes two of
 * dst, its lanes doubled with __builtin_shufflevector. */
#if VBP_REAL_IS_FLOAT
#define NN_VL (VBP_VBYTES / 4)
#else
#define NN_VL (VBP_VBYTES / 8)
#endif
#if NN_VL == 2
#define NN_LO 0, 0
#define NN_HI 1, 1
#elif NN_VL == 4
#define NN_LO 0, 0, 1, 1
#define NN_HI 2, 2, 3, 3
#elif NN_VL == 8
#define NN_LO 0, 0, 1, 1, 2, 2, 3, 3
#define NN_HI 4, 4, 5, 5, 6, 6, 7, 7
#elif NN_VL == 16
#define NN_LO 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7
#define NN_HI 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15
#else
#error "unexpected vector length"
#endif
typedef real FN(nnv) __attribute__((vector_size(VBP_VBYTES), aligned(sizeof(real)), may_alias));
static inline void FN(up_row_nearest)(real *restrict dst, const real *restrict src, size_t len)
{
    size_t k = 0;
    for (; k + NN_VL <= len; k += NN_VL) {
        const FN(nnv) v = *(const FN(nnv) *)(src + k);
        *(FN(nnv) *)(dst + 2 * k) = __builtin_shufflevector(v, v, NN_LO);
        *(FN(nnv) *)(dst + 2 * k + NN_VL) = __builtin_shufflevector(v, v, NN_HI);
    }
    for (; k < len; k++)
        dst[2 * k] = dst[2 * k + 1] = src[k];
}
#undef NN_VL
#undef NN_LO
#undef NN_HI

/* d [h, w] += the adjoint of output row oy of the 2x upsampling (VBP_UP_*) of d's plane applied
 * to g [2w]: the backward of one upsampled row (rows taken in order from 0 give
 * vbp_up2x_backward's bits).  Unused: not every file that includes this header upsamples. */
VBP_SAME_CODE __attribute__((unused)) static void FN(up_row_backward)(real *d, const real *g,
                                                                      size_t oy, size_t h,
                                                                      size_t w, int up)
{
    if (up == VBP_UP_NEAREST) {
        real *restrict r = d + (oy / 2) * w;
        for (size_t k = 0; k < w; k++)
            r[k] += g[2 * k] + g[2 * k + 1];
        return;
    }
    size_t i0, i1;
    real l0, l1;
    FN(up_taps)(oy, h, &i0, &i1, &l0, &l1);
    FN(up_row_adjoint)(d + i0 * w, g, l0, w);
    if (l1 != 0)
        FN(up_row_adjoint)(d + i1 * w, g, l1, w);
}

/* Output rows [ya, yb) of the 2x upsampling (VBP_UP_*) of the plane x [h, w] into o (row y at
 * o + (y - ya) * 2w).  Unused: not every file that includes this header upsamples. */
__attribute__((unused)) static void FN(up_rows)(real *o, const real *x, size_t h, size_t w,
                                                int up, size_t ya, size_t yb)
{
    for (size_t y = ya; y < yb; y++) {
        if (up == VBP_UP_NEAREST) {
            FN(up_row_nearest)(o + (y - ya) * 2 * w, x + (y / 2) * w, w);
            continue;
        }
        size_t i0, i1;
        real l0, l1;
        FN(up_taps)(y, h, &i0, &i1, &l0, &l1);
        FN(up_row)(o + (y - ya) * 2 * w, x + i0 * w, l1 != 0 ? x + i1 * w : NULL, l0, l1, w);
    }
}

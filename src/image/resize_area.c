/*
 * resize_area.c - OpenCV's INTER_AREA shrink of 8-bit BGR frames, bit for
 * bit (resize.h states the three cases and the arithmetic).
 *
 * Compiled with -ffp-contract=off (src/meson.build): a fused multiply-add
 * rounds once where OpenCV rounds twice, and would change the pixels.
 *
 * The general case does OpenCV's float operations in OpenCV's order, but
 * laid out for speed: the horizontal sums of a source row are computed once
 * even when two output rows use that row (OpenCV computes them twice; the
 * values are the same), and the taps of one output pixel, always a run of
 * consecutive source pixels, are read with one 16-byte load per 5 taps
 * whose three channels are summed in the lanes of one SSE2 register.  Taps
 * are padded with weight 0 to a fixed count: adding (+0) * v is exact, so
 * the padding does not change a sum.  Where the CPU has AVX2 (vbp_cpu_isa:
 * VBP_ISA=generic turns it off) two output pixels share one 256-bit
 * register, one per 128-bit lane, each lane doing the SSE2 path's
 * operations in its order: the same bytes, half the instructions (four
 * pixels per register with AVX-512); the vertical pass, element by
 * element, runs on 256-bit vectors there (a 512-bit one gained 4%).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AREA_AVX2 1
#endif
#include "cpu.h"
#include "internal.h"
#include "resize.h"

enum { AREA_COPY, AREA_BLOCK, AREA_GENERAL };
/* vbp_area.simd: the kernels in use (AVX-512: 4 pixels per horizontal instruction, the vertical
 * pass on 256 bits: 512 gained nothing there) */
enum { SIMD_NONE, SIMD_SSE2, SIMD_AVX2, SIMD_AVX512 };
#define GROUP 5 /* taps (BGR pixels) per 16-byte load */

/* One term of OpenCV's area table: output index `dst` takes source index `src` times w. */
typedef struct tap {
    uint32_t src, dst;
    float w;
} tap;

struct vbp_area {
    uint32_t sw, sh, dw, dh;
    int mode, simd;
    uint32_t kx, ky;    /* AREA_BLOCK: the integer factors */
    uint32_t groups;    /* AREA_GENERAL: loads per output pixel */
    uint32_t last_taps; /* taps in the last load (GROUP in the others) */
    uint32_t *xstart;   /* dw byte offsets (3 * first source pixel) */
    float *xw;          /* dw * groups * GROUP weights, zero-padded */
    float *xw4;         /* groups == 1: per 4 pixels and tap, each pixel's weight 4 times */
    tap *ytab;          /* vertical terms in OpenCV's order */
    size_t ny;
    float *buf, *sum;   /* 4 * dw floats: lanes B, G, R and one unused */
};

/*
 * OpenCV's table along one axis (computeResizeAreaTab): for each output
 * index in order, the source indices its cell [d*scale, (d+1)*scale) covers,
 * a partial first and last one weighted by the covered fraction, all divided
 * by the cell's width.  t holds 2*ssize + 2 entries; returns the count.
 */
static size_t area_taps(uint32_t ssize, uint32_t dsize, double scale, tap *t)
{
    size_t k = 0;
    for (uint32_t d = 0; d < dsize; d++) {
        double f1 = d * scale, f2 = f1 + scale, cell = fmin(scale, ssize - f1);
        int64_t s1 = (int64_t)ceil(f1), s2 = (int64_t)floor(f2);
        if (s2 > (int64_t)ssize - 1)
            s2 = (int64_t)ssize - 1;
        if (s1 > s2)
            s1 = s2;
        if (s1 - f1 > 1e-3)
            t[k++] = (tap){ (uint32_t)(s1 - 1), d, (float)((s1 - f1) / cell) };
        for (int64_t s = s1; s < s2; s++)
            t[k++] = (tap){ (uint32_t)s, d, (float)(1.0 / cell) };
        if (f2 - s2 > 1e-3)
            t[k++] = (tap){ (uint32_t)s2, d, (float)(fmin(fmin(f2 - s2, 1.0), cell) / cell) };
    }
    return k;
}

/* OpenCV's saturate_cast<uchar>(float): round half to even, clamp to 0..255 (v < 2^22). */
static inline uint8_t sat(float v)
{
    float r = (v + 12582912.0f) - 12582912.0f; /* 1.5 * 2^23: rounds in the FPU's mode */
    return r <= 0.0f ? 0 : r >= 255.0f ? 255 : (uint8_t)r;
}

void vbp_area_free(vbp_area *a)
{
    if (!a)
        return;
    free(a->xstart);
    free(a->xw);
    free(a->xw4);
    free(a->ytab);
    free(a->buf);
    free(a->sum);
    free(a);
}

/* The per-output-pixel layout of the horizontal table: start offsets and padded weights. */
static int plan_columns(vbp_area *a, double scale)
{
    tap *xt = malloc((2 * (size_t)a->sw + 2) * sizeof *xt);
    if (!xt)
        return -1;
    size_t n = area_taps(a->sw, a->dw, scale, xt), most = 0;
    for (size_t k = 0, run = 0; k < n; k++) {
        run = k && xt[k].dst == xt[k - 1].dst ? run + 1 : 1;
        most = run > most ? run : most;
    }
    a->groups = (uint32_t)((most + GROUP - 1) / GROUP);
    a->last_taps = (uint32_t)(most - (a->groups - 1) * GROUP);
    size_t per = (size_t)a->groups * GROUP;
    a->xstart = malloc(a->dw * sizeof *a->xstart);
    a->xw = calloc(a->dw * per, sizeof *a->xw);
    if (!a->xstart || !a->xw) {
        free(xt);
        return -1;
    }
    for (size_t k = 0, i = 0; k < n; k++) {
        i = k && xt[k].dst == xt[k - 1].dst ? i + 1 : 0;
        if (i == 0)
            a->xstart[xt[k].dst] = 3 * xt[k].src;
        /* the terms of one output pixel are consecutive source pixels: s1-1, s1..s2-1, s2 */
        a->xw[xt[k].dst * per + i] = xt[k].w;
    }
    free(xt);
    if (a->groups == 1) {
        size_t quads = ((size_t)a->dw + 3) / 4;
        if (!(a->xw4 = calloc(quads * GROUP * 16, sizeof *a->xw4)))
            return -1;
        for (size_t d = 0; d < a->dw; d++)
            for (size_t k = 0; k < GROUP; k++)
                for (size_t l = 0; l < 4; l++)
                    a->xw4[((d / 4) * GROUP + k) * 16 + (d % 4) * 4 + l] = a->xw[d * GROUP + k];
    }
    return 0;
}

/* The fastest horizontal kernel this CPU runs for a's table, at most `most`. */
static int pick_simd(const vbp_area *a, int most)
{
    int best = SIMD_NONE;
#ifdef __SSE2__
    best = SIMD_SSE2;
#endif
#ifdef AREA_AVX2
    if (a->mode == AREA_GENERAL && a->xw4 && vbp_cpu_isa() >= VBP_ISA_AVX2)
        best = vbp_cpu_isa() >= VBP_ISA_AVX512 ? SIMD_AVX512 : SIMD_AVX2;
#endif
    (void)a;
    return best < most ? best : most;
}

int vbp_area_create(uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh, vbp_area **out,
                    vbp_error *err)
{
    *out = NULL;
    if (!dw || !dh || dw > sw || dh > sh || sw > 65535 || sh > 65535)
        return vbp_fail(err, VBP_E_ARG, "cannot shrink %ux%u to %ux%u (the area filter only "
                        "shrinks, sizes up to 65535)", sw, sh, dw, dh);
    vbp_area *a = calloc(1, sizeof *a);
    if (!a)
        return vbp_fail(err, VBP_E_NOMEM, "out of memory for a %ux%u resize", dw, dh);
    a->sw = sw, a->sh = sh, a->dw = dw, a->dh = dh;
    /* cv::resize: scale = 1 / (dsize / ssize); integer factors take the block-mean path */
    double sx = 1.0 / ((double)dw / sw), sy = 1.0 / ((double)dh / sh);
    double ix = nearbyint(sx), iy = nearbyint(sy);
    int rc = 0;
    if (sw == dw && sh == dh) {
        a->mode = AREA_COPY;
    } else if (fabs(sx - ix) < DBL_EPSILON && fabs(sy - iy) < DBL_EPSILON) {
        a->mode = AREA_BLOCK;
        a->kx = (uint32_t)ix;
        a->ky = (uint32_t)iy;
    } else {
        a->mode = AREA_GENERAL;
        a->ytab = malloc((2 * (size_t)sh + 2) * sizeof *a->ytab);
        a->buf = malloc(4 * (size_t)dw * sizeof *a->buf);
        a->sum = malloc(4 * (size_t)dw * sizeof *a->sum);
        rc = !a->ytab || !a->buf || !a->sum || plan_columns(a, sx);
        if (!rc)
            a->ny = area_taps(sh, dh, sy, a->ytab);
    }
    if (rc) {
        vbp_area_free(a);
        return vbp_fail(err, VBP_E_NOMEM, "out of memory for a %ux%u resize", dw, dh);
    }
    a->simd = pick_simd(a, SIMD_AVX512);
    *out = a;
    return VBP_OK;
}

int vbp_area_set_simd(vbp_area *a, int level)
{
    return a->simd = pick_simd(a, level < 0 ? 0 : level);
}

/* Horizontal sums of one source row into buf (lanes B, G, R, 0), portable C. */
static void hrow_c(const vbp_area *a, const uint8_t *row, float *buf)
{
    const size_t per = (size_t)a->groups * GROUP;
    for (uint32_t d = 0; d < a->dw; d++) {
        const uint8_t *p = row + a->xstart[d];
        const float *w = a->xw + d * per;
        for (int c = 0; c < 3; c++) {
            float acc = 0.0f;
            for (uint32_t g = 0; g < a->groups; g++) {
                uint32_t n = g + 1 == a->groups ? a->last_taps : GROUP;
                for (uint32_t k = 0; k < n; k++)
                    acc = acc + (float)p[15 * g + 3 * k + (uint32_t)c] * w[GROUP * g + k];
            }
            buf[4 * d + (uint32_t)c] = acc;
        }
        buf[4 * d + 3] = 0.0f;
    }
}

#ifdef __SSE2__
/* acc + the first n (1..5) taps of the 16 bytes at p (5 BGR pixels) times w, lane c channel c. */
static inline __attribute__((always_inline)) __m128 tap_group(const uint8_t *p, const float *w,
                                                             uint32_t n, __m128 acc)
{
    const __m128i z = _mm_setzero_si128();
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i lo = _mm_unpacklo_epi8(b, z), hi = _mm_unpackhi_epi8(b, z);
    __m128 f0 = _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, z)); /* B0 G0 R0 B1 */
    __m128 f1 = _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, z)); /* G1 R1 B2 G2 */
    acc = _mm_add_ps(acc, _mm_mul_ps(f0, _mm_set1_ps(w[0])));
    if (n < 2)
        return acc;
    __m128 t = _mm_shuffle_ps(_mm_shuffle_ps(f0, f1, _MM_SHUFFLE(0, 0, 3, 3)), f1,
                              _MM_SHUFFLE(1, 1, 2, 0)); /* B1 G1 R1 */
    acc = _mm_add_ps(acc, _mm_mul_ps(t, _mm_set1_ps(w[1])));
    if (n < 3)
        return acc;
    __m128 f2 = _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, z)); /* R2 B3 G3 R3 */
    t = _mm_shuffle_ps(f1, f2, _MM_SHUFFLE(0, 0, 3, 2));     /* B2 G2 R2 */
    acc = _mm_add_ps(acc, _mm_mul_ps(t, _mm_set1_ps(w[2])));
    if (n < 4)
        return acc;
    t = _mm_shuffle_ps(f2, f2, _MM_SHUFFLE(3, 3, 2, 1)); /* B3 G3 R3 */
    acc = _mm_add_ps(acc, _mm_mul_ps(t, _mm_set1_ps(w[3])));
    if (n < 5)
        return acc;
    __m128 f3 = _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, z)); /* B4 G4 R4 x */
    return _mm_add_ps(acc, _mm_mul_ps(f3, _mm_set1_ps(w[4])));
}

/* hrow_c with SSE2 for rows whose pixels take at most n <= 5 taps (one load each). */
static inline __attribute__((always_inline)) void hrow_one(const vbp_area *a, const uint8_t *row,
                                                          float *buf, uint32_t n)
{
    for (uint32_t d = 0; d < a->dw; d++)
        _mm_storeu_ps(buf + 4 * d, tap_group(row + a->xstart[d], a->xw + (size_t)d * GROUP, n,
                                             _mm_setzero_ps()));
}

static void hrow_sse2(const vbp_area *a, const uint8_t *row, float *buf)
{
    switch (a->groups == 1 ? a->last_taps : 0) {
    case 1: hrow_one(a, row, buf, 1); return;
    case 2: hrow_one(a, row, buf, 2); return;
    case 3: hrow_one(a, row, buf, 3); return;
    case 4: hrow_one(a, row, buf, 4); return;
    case 5: hrow_one(a, row, buf, 5); return;
    default: break;
    }
    const size_t per = (size_t)a->groups * GROUP;
    for (uint32_t d = 0; d < a->dw; d++) {
        __m128 acc = _mm_setzero_ps();
        for (uint32_t g = 0; g < a->groups; g++)
            acc = tap_group(row + a->xstart[d] + 15 * g, a->xw + d * per + GROUP * g,
                            g + 1 == a->groups ? a->last_taps : GROUP, acc);
        _mm_storeu_ps(buf + 4 * d, acc);
    }
}
#endif

#ifdef AREA_AVX2
/*
 * The SSE2 path's tap_group for L output pixels at once (L = 2 on AVX2, 4
 * on AVX-512): pixel i's 16-byte load in 128-bit lane i of b, and every
 * instruction below working within lanes; w holds 16 floats per tap (xw4,
 * from the first pixel's lane on).  The same products in the same order:
 * the same bytes.  One body, instantiated per width.
 */
#define AREA_TAPS(name, tgt, V, VI, P, BITS)                                                       \
    __attribute__((target(tgt), always_inline)) static inline V name(VI b, const float *w,         \
                                                                      uint32_t n)                  \
    {                                                                                              \
        const VI z = P##_setzero_si##BITS();                                                       \
        VI lo = P##_unpacklo_epi8(b, z), hi = P##_unpackhi_epi8(b, z);                             \
        V f0 = P##_cvtepi32_ps(P##_unpacklo_epi16(lo, z)); /* B0 G0 R0 B1 */                       \
        V f1 = P##_cvtepi32_ps(P##_unpackhi_epi16(lo, z)); /* G1 R1 B2 G2 */                       \
        V acc = P##_add_ps(P##_setzero_ps(), P##_mul_ps(f0, P##_loadu_ps(w)));                     \
        if (n < 2)                                                                                 \
            return acc;                                                                            \
        V t = P##_shuffle_ps(P##_shuffle_ps(f0, f1, _MM_SHUFFLE(0, 0, 3, 3)), f1,                  \
                             _MM_SHUFFLE(1, 1, 2, 0)); /* B1 G1 R1 */                              \
        acc = P##_add_ps(acc, P##_mul_ps(t, P##_loadu_ps(w + 16)));                                \
        if (n < 3)                                                                                 \
            return acc;                                                                            \
        V f2 = P##_cvtepi32_ps(P##_unpacklo_epi16(hi, z)); /* R2 B3 G3 R3 */                       \
        t = P##_shuffle_ps(f1, f2, _MM_SHUFFLE(0, 0, 3, 2)); /* B2 G2 R2 */                        \
        acc = P##_add_ps(acc, P##_mul_ps(t, P##_loadu_ps(w + 32)));                                \
        if (n < 4)                                                                                 \
            return acc;                                                                            \
        t = P##_shuffle_ps(f2, f2, _MM_SHUFFLE(3, 3, 2, 1)); /* B3 G3 R3 */                        \
        acc = P##_add_ps(acc, P##_mul_ps(t, P##_loadu_ps(w + 48)));                                \
        if (n < 5)                                                                                 \
            return acc;                                                                            \
        V f3 = P##_cvtepi32_ps(P##_unpackhi_epi16(hi, z)); /* B4 G4 R4 x */                        \
        return P##_add_ps(acc, P##_mul_ps(f3, P##_loadu_ps(w + 64)));                              \
    }
AREA_TAPS(taps2, "avx2", __m256, __m256i, _mm256, 256)
AREA_TAPS(taps4, "avx2,avx512f,avx512bw", __m512, __m512i, _mm512, 512)

#define LOAD16(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

/* The loads of pixels x[0], x[1] (x[0..3]) of `row` into the lanes of one register. */
__attribute__((target("avx2"), always_inline)) static inline __m256i load2(const uint8_t *row,
                                                                         const uint32_t *x)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(LOAD16(row + x[0])), LOAD16(row + x[1]),
                                   1);
}

__attribute__((target("avx2,avx512f,avx512bw"), always_inline)) static inline __m512i
load4(const uint8_t *row, const uint32_t *x)
{
    __m512i b = _mm512_castsi128_si512(LOAD16(row + x[0]));
    b = _mm512_inserti32x4(b, LOAD16(row + x[1]), 1);
    b = _mm512_inserti32x4(b, LOAD16(row + x[2]), 2);
    return _mm512_inserti32x4(b, LOAD16(row + x[3]), 3);
}

/*
 * hrow_sse2 for tables of one load per pixel (xw4 exists), L pixels per
 * instruction; the last dw % L pixels by tap_group, the same arithmetic.
 */
#define AREA_HROW(name, tgt, taps, load, P, L)                                                     \
    __attribute__((target(tgt), always_inline)) static inline void name##_n(                       \
        const vbp_area *a, const uint8_t *row, float *buf, uint32_t n)                             \
    {                                                                                              \
        uint32_t d = 0;                                                                            \
        for (; d + L <= a->dw; d += L)                                                             \
            P##_storeu_ps(buf + 4 * d, taps(load(row, a->xstart + d),                              \
                                            a->xw4 + (size_t)d / 4 * GROUP * 16 + d % 4 * 4, n));  \
        for (; d < a->dw; d++)                                                                     \
            _mm_storeu_ps(buf + 4 * d, tap_group(row + a->xstart[d], a->xw + (size_t)d * GROUP, n, \
                                                 _mm_setzero_ps()));                               \
    }                                                                                              \
    __attribute__((target(tgt))) static void name(const vbp_area *a, const uint8_t *row,           \
                                                  float *buf)                                      \
    {                                                                                              \
        switch (a->last_taps) {                                                                    \
        case 1: name##_n(a, row, buf, 1); return;                                                  \
        case 2: name##_n(a, row, buf, 2); return;                                                  \
        case 3: name##_n(a, row, buf, 3); return;                                                  \
        case 4: name##_n(a, row, buf, 4); return;                                                  \
        default: name##_n(a, row, buf, 5); return;                                                 \
        }                                                                                          \
    }
AREA_HROW(hrow_avx2, "avx2", taps2, load2, _mm256, 2)
AREA_HROW(hrow_avx512, "avx2,avx512f,avx512bw", taps4, load4, _mm512, 4)
#endif

/* The vertical pass over n floats: sum = beta * buf (an output row's first term), else sum + beta * buf. */
static inline __attribute__((always_inline)) void vrow_body(float *restrict sum,
                                                            const float *restrict buf, float beta,
                                                            size_t n, int first)
{
    if (first)
        for (size_t i = 0; i < n; i++)
            sum[i] = beta * buf[i];
    else
        for (size_t i = 0; i < n; i++)
            sum[i] = sum[i] + beta * buf[i];
}

#ifdef AREA_AVX2
__attribute__((target("avx2"))) static void vrow_avx2(float *sum, const float *buf, float beta,
                                                      size_t n, int first)
{
    vrow_body(sum, buf, beta, n, first);
}
#endif

/* vrow_body at the width a->simd allows (each element the same product and sum). */
static void vrow(const vbp_area *a, float *sum, const float *buf, float beta, size_t n, int first)
{
#ifdef AREA_AVX2
    if (a->simd >= SIMD_AVX2)
        vrow_avx2(sum, buf, beta, n, first);
    else
#endif
        vrow_body(sum, buf, beta, n, first);
}

/* Output row y from the vertical sums (lanes B, G, R) into the R, G, B planes. */
static void store_row(const vbp_area *a, const float *sum, uint32_t y, uint8_t *rgb)
{
    const size_t plane = (size_t)a->dw * a->dh;
    uint8_t *r = rgb + (size_t)y * a->dw, *g = r + plane, *b = g + plane;
    uint32_t x = 0;
#ifdef __SSE2__
    /* 4 pixels at a time: transposed to B, G, R vectors, rounded half to even by cvtps2dq in
     * the default rounding mode (as sat()), saturated to 0..255 by the two packs */
    for (; a->simd && x + 4 <= a->dw; x += 4) {
        __m128 p0 = _mm_loadu_ps(sum + 4 * x), p1 = _mm_loadu_ps(sum + 4 * x + 4);
        __m128 p2 = _mm_loadu_ps(sum + 4 * x + 8), p3 = _mm_loadu_ps(sum + 4 * x + 12);
        _MM_TRANSPOSE4_PS(p0, p1, p2, p3); /* p0 = B, p1 = G, p2 = R */
        __m128i bg = _mm_packs_epi32(_mm_cvtps_epi32(p0), _mm_cvtps_epi32(p1));
        __m128i rr = _mm_packs_epi32(_mm_cvtps_epi32(p2), _mm_setzero_si128());
        __m128i bytes = _mm_packus_epi16(bg, rr); /* B0..B3 G0..G3 R0..R3 0.. */
        int32_t lanes[4];
        _mm_storeu_si128((__m128i *)(void *)lanes, bytes);
        memcpy(b + x, &lanes[0], 4);
        memcpy(g + x, &lanes[1], 4);
        memcpy(r + x, &lanes[2], 4);
    }
#endif
    for (; x < a->dw; x++) {
        b[x] = sat(sum[4 * x]);
        g[x] = sat(sum[4 * x + 1]);
        r[x] = sat(sum[4 * x + 2]);
    }
}

static void run_general(vbp_area *a, const uint8_t *bgr, size_t stride, uint8_t *rgb)
{
    const size_t n = 4 * (size_t)a->dw;
    float *buf = a->buf, *sum = a->sum;
    uint32_t prev = a->ytab[0].dst, last_src = UINT32_MAX;
    for (size_t i = 0; i < n; i++)
        sum[i] = 0.0f;
    for (size_t j = 0; j < a->ny; j++) {
        const tap *t = &a->ytab[j];
        if (t->src != last_src) {
            const uint8_t *row = bgr + t->src * stride;
#ifdef AREA_AVX2
            if (a->simd == SIMD_AVX512)
                hrow_avx512(a, row, buf);
            else if (a->simd == SIMD_AVX2)
                hrow_avx2(a, row, buf);
            else
#endif
#ifdef __SSE2__
            if (a->simd == SIMD_SSE2)
                hrow_sse2(a, row, buf);
            else
#endif
                hrow_c(a, row, buf);
            last_src = t->src;
        }
        const float beta = t->w;
        if (t->dst != prev) {
            store_row(a, sum, prev, rgb);
            vrow(a, sum, buf, beta, n, 1);
            prev = t->dst;
        } else {
            vrow(a, sum, buf, beta, n, 0);
        }
    }
    store_row(a, sum, prev, rgb);
}

/* Integer factors: block means; 2 x 2 rounds (sum + 2) >> 2 as OpenCV's vector path does. */
static void run_block(const vbp_area *a, const uint8_t *bgr, size_t stride, uint8_t *rgb)
{
    const size_t plane = (size_t)a->dw * a->dh;
    const float scale = 1.0f / (float)(a->kx * a->ky);
    const int two = a->kx == 2 && a->ky == 2;
    for (uint32_t y = 0; y < a->dh; y++) {
        const uint8_t *top = bgr + (size_t)y * a->ky * stride;
        for (uint32_t x = 0; x < a->dw; x++)
            for (uint32_t c = 0; c < 3; c++) {
                uint32_t s = 0;
                for (uint32_t i = 0; i < a->ky; i++)
                    for (uint32_t k = 0; k < a->kx; k++)
                        s += top[i * stride + 3 * (x * a->kx + k) + c];
                rgb[(2 - c) * plane + (size_t)y * a->dw + x] =
                    two ? (uint8_t)((s + 2) >> 2) : sat((float)s * scale);
            }
    }
}

void vbp_area_run(vbp_area *a, const uint8_t *bgr, size_t stride, uint8_t *rgb)
{
    if (a->mode == AREA_GENERAL) {
        run_general(a, bgr, stride, rgb);
    } else if (a->mode == AREA_BLOCK) {
        run_block(a, bgr, stride, rgb);
    } else {
        const size_t plane = (size_t)a->dw * a->dh;
        for (uint32_t y = 0; y < a->dh; y++) {
            const uint8_t *restrict row = bgr + y * stride;
            uint8_t *restrict r = rgb + (size_t)y * a->dw, *restrict g = r + plane,
                              *restrict b = g + plane;
            for (size_t x = 0; x < a->dw; x++) { /* size_t: 3 * x cannot wrap, so it vectorises */
                b[x] = row[3 * x];
                g[x] = row[3 * x + 1];
                r[x] = row[3 * x + 2];
            }
        }
    }
}

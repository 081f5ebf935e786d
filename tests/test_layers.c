/*
 * test_layers.c - every layer's backward against central finite differences.
 *
 * How the check stays honest: each layer body is written once over a type
 * `real` and compiled for float and double (src/nn/layers_tmpl.h).  The gradient
 * checks run the DOUBLE instantiation: J = sum(out * R) for a fixed random R,
 * the analytic gradient is backward(dout = R), and the finite difference
 * (J(v+h) - J(v-h)) / 2h with h = 1e-6 is accurate to ~1e-9, so a relative
 * error above 1e-6 is a real bug, not rounding.  A second check runs the
 * FLOAT instantiation on the same data and requires it to agree with double
 * to float precision, which ties the checked math to the code the net runs.
 * Shapes are odd on purpose: odd sizes, one channel, batch 1.
 * The kernels of the instruction set named by VBP_ISA run (tests/meson.build runs
 * this file once per set: avx512, avx2, generic).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fixture.h"
#include "layers.h"
#include "vbp_net.h"

static uint64_t rng = 12345;
static double urand(void) /* uniform in [-1, 1) */
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) * 0x1.0p-52 - 1.0;
}
static double *rand_vec(size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = urand();
    return v;
}
static float *to_float(const double *v, size_t n)
{
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    return f;
}

static float *rand_fvec(size_t n)
{
    double *d = rand_vec(n);
    float *f = to_float(d, n);
    free(d);
    return f;
}

/* A layer under test: objective(ctx) = sum(out * R) in double. */
typedef double (*objective_fn)(void *ctx);

/*
 * Compare analytic gradient g[0:n] of variable v[0:n] with central differences
 * of f.  With max_checks < n only an evenly spread subset of indices is probed.
 */
static void check_grad(const char *what, objective_fn f, void *ctx, double *v, const double *g,
                       size_t n, size_t max_checks)
{
    const double h = 1e-6;
    double worst = 0, scale = 1e-3;
    const size_t step = max_checks && n > max_checks ? n / max_checks : 1;
    for (size_t i = 0; i < n; i++)
        scale = fabs(g[i]) > scale ? fabs(g[i]) : scale;
    for (size_t i = 0; i < n; i += step) {
        const double keep = v[i];
        v[i] = keep + h;
        const double jp = f(ctx);
        v[i] = keep - h;
        const double jm = f(ctx);
        v[i] = keep;
        const double fd = (jp - jm) / (2 * h), e = fabs(fd - g[i]) / scale;
        worst = e > worst ? e : worst;
    }
    if (worst > 1e-6)
        fail_msg("%s: finite-difference relative error %.3g", what, worst);
}

static double rel_err_fd(const float *a, const double *b, size_t n)
{
    double m = 0, s = 1e-30;
    for (size_t i = 0; i < n; i++) {
        m = fx_max_nan(m, fabs((double)a[i] - b[i]));
        s = fx_max_nan(s, fabs(b[i]));
    }
    return m / s;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* ---------------------------------------------------------------- dwconv */

typedef struct dw_ctx {
    size_t n, c, h, w;
    double *in, *wt, *out, *R;
} dw_ctx;

static double dw_obj(void *p)
{
    dw_ctx *k = p;
    vbp_dwconv_forward_d(k->out, k->in, k->wt, k->n, k->c, k->h, k->w, 1);
    return dot(k->out, k->R, k->n * k->c * k->h * k->w);
}

static void dwconv_case(size_t n, size_t c, size_t h, size_t w)
{
    const size_t N = n * c * h * w;
    dw_ctx k = {n, c, h, w, rand_vec(N), rand_vec(c * 9), rand_vec(N), rand_vec(N)};
    double *din = rand_vec(N), *dwt = calloc(c * 9, sizeof(double));
    double *part = malloc(n * c * 9 * sizeof(double));
    for (size_t i = 0; i < c * 9; i++)
        dwt[i] = 0.5; /* backward must ADD to parameter gradients */
    vbp_dwconv_backward_d(din, dwt, k.R, k.in, k.wt, n, c, h, w, part, 2);
    for (size_t i = 0; i < c * 9; i++)
        dwt[i] -= 0.5;
    check_grad("dwconv din", dw_obj, &k, k.in, din, N, 200);
    check_grad("dwconv dw", dw_obj, &k, k.wt, dwt, c * 9, 0);
    /* float instantiation agrees with double */
    float *fin = to_float(k.in, N), *fw = to_float(k.wt, c * 9), *fR = to_float(k.R, N);
    float *fout = malloc(N * sizeof(float)), *fdin = malloc(N * sizeof(float));
    float *fdw = calloc(c * 9, sizeof(float));
    double *fpart = malloc(n * c * 9 * sizeof(double));
    vbp_dwconv_forward_f(fout, fin, fw, n, c, h, w, 2);
    dw_obj(&k);
    assert_true(rel_err_fd(fout, k.out, N) < 1e-5);
    vbp_dwconv_backward_f(fdin, fdw, fR, fin, fw, n, c, h, w, fpart, 2);
    assert_true(rel_err_fd(fdin, din, N) < 1e-5);
    assert_true(rel_err_fd(fdw, dwt, c * 9) < 1e-5);
    free(k.in), free(k.wt), free(k.out), free(k.R), free(din), free(dwt), free(part);
    free(fin), free(fw), free(fR), free(fout), free(fdin), free(fdw), free(fpart);
}

static void dwconv_grad(void **state)
{
    (void)state;
    dwconv_case(2, 3, 5, 7);
    dwconv_case(1, 1, 1, 1);
    dwconv_case(1, 2, 1, 6);
    dwconv_case(3, 1, 4, 1);
    dwconv_case(1, 1, 9, 11);
    /* Widths of whole registers: the lane-shift path of AVX-512 (isa.h VBP_DW_SHIFT) */
    dwconv_case(2, 2, 5, 16);
    dwconv_case(1, 2, 3, 48);
    dwconv_case(1, 1, 1, 32);
}

/* ---------------------------------------------------------------- pwconv */

typedef struct pw_ctx {
    size_t n, ci, co, P;
    double *in, *wt, *bias, *out, *R;
} pw_ctx;

static double pw_obj(void *p)
{
    pw_ctx *k = p;
    vbp_pwconv_forward_d(k->out, k->in, k->wt, k->bias, NULL, 0, NULL, NULL, k->n, k->ci, k->co,
                         k->P, 1);
    return dot(k->out, k->R, k->n * k->co * k->P);
}

static void pwconv_case(size_t n, size_t ci, size_t co, size_t P, int with_bias)
{
    const size_t Ni = n * ci * P, No = n * co * P;
    pw_ctx k = {n, ci, co, P, rand_vec(Ni), rand_vec(co * ci), with_bias ? rand_vec(co) : NULL,
                rand_vec(No), rand_vec(No)};
    double *din = rand_vec(Ni), *dwt = calloc(co * ci, sizeof(double));
    double *db = calloc(co, sizeof(double));
    double *part = malloc(VBP_PW_UNITS(n, P) * (co * ci + co) * sizeof(double));
    vbp_pwconv_backward_d(din, dwt, with_bias ? db : NULL, k.R, k.in, k.wt, n, ci, co, P, part, 2);
    /* eval-mode BN folding: act(scale * conv + bias) */
    double *sc = rand_vec(co), *fused = malloc(No * 8);
    vbp_pwconv_forward_d(fused, k.in, k.wt, k.bias, sc, 1, NULL, NULL, n, ci, co, P, 2);
    vbp_pwconv_forward_d(k.out, k.in, k.wt, NULL, NULL, 0, NULL, NULL, n, ci, co, P, 2);
    for (size_t i = 0; i < No; i++) {
        const size_t o = (i / P) % co;
        const double v = sc[o] * k.out[i] + (with_bias ? k.bias[o] : 0);
        assert_true(fabs(fused[i] - (v > 0 ? v : 0)) < 1e-12);
    }
    /* BatchNorm after the ReLU (VballNetV1): act(conv + bias) * pscale + pshift */
    double *ps = rand_vec(co), *pt = rand_vec(co);
    vbp_pwconv_forward_d(fused, k.in, k.wt, k.bias, NULL, 1, ps, pt, n, ci, co, P, 2);
    size_t zeros = 0;
    for (size_t i = 0; i < No; i++) {
        const size_t o = (i / P) % co;
        const double v = k.out[i] + (with_bias ? k.bias[o] : 0), r = v > 0 ? v : 0;
        assert_true(fabs(fused[i] - (r * ps[o] + pt[o])) < 1e-12);
        zeros += r == 0;
    }
    assert_true(No < 30 || (zeros > 0 && zeros < No)); /* both sides of the ReLU */
    free(sc), free(fused), free(ps), free(pt);
    check_grad("pwconv din", pw_obj, &k, k.in, din, Ni, 300);
    check_grad("pwconv dw", pw_obj, &k, k.wt, dwt, co * ci, 0);
    if (with_bias)
        check_grad("pwconv dbias", pw_obj, &k, k.bias, db, co, 0);
    float *fin = to_float(k.in, Ni), *fw = to_float(k.wt, co * ci), *fR = to_float(k.R, No);
    float *fb = with_bias ? to_float(k.bias, co) : NULL, *fout = malloc(No * sizeof(float));
    float *fdin = malloc(Ni * sizeof(float)), *fdw = calloc(co * ci, sizeof(float));
    float *fdb = calloc(co, sizeof(float));
    float *fpart = malloc(VBP_PW_UNITS(n, P) * (co * ci + co) * sizeof(float));
    vbp_pwconv_forward_f(fout, fin, fw, fb, NULL, 0, NULL, NULL, n, ci, co, P, 2);
    pw_obj(&k);
    assert_true(rel_err_fd(fout, k.out, No) < 1e-5);
    vbp_pwconv_backward_f(fdin, fdw, with_bias ? fdb : NULL, fR, fin, fw, n, ci, co, P, fpart, 2);
    assert_true(rel_err_fd(fdin, din, Ni) < 1e-5);
    assert_true(rel_err_fd(fdw, dwt, co * ci) < 1e-5);
    if (with_bias)
        assert_true(rel_err_fd(fdb, db, co) < 1e-5);
    free(k.in), free(k.wt), free(k.bias), free(k.out), free(k.R), free(din), free(dwt), free(db);
    free(part), free(fin), free(fw), free(fR), free(fb), free(fout), free(fdin), free(fdw);
    free(fdb), free(fpart);
}

static void pwconv_grad(void **state)
{
    (void)state;
    pwconv_case(2, 3, 5, 35, 0);
    pwconv_case(1, 1, 1, 1, 1);
    pwconv_case(3, 4, 2, 9, 1);
    pwconv_case(2, 2, 3, VBP_PW_CHUNK + 37, 1); /* several reduction chunks per sample */
    /* Full register tiles of every ISA (src/nn/isa.h: up to 8 outputs x 2 vectors of 16 floats)
       and each remainder path, forward and transposed. */
    pwconv_case(2, 11, 19, 70, 1);
}

/* ------------------------------------------------------------- BatchNorm */

/* VBP_BN_THEN_RELU: y = relu(bn(z)); VBP_RELU_THEN_BN: the layers' z is relu(v) and the
 * objective is taken over v, so that the check covers the mask applied to the BatchNorm's
 * input gradient. */
typedef struct bn_ctx {
    size_t n, c, P;
    double *z, *gamma, *beta, *rm, *rv, *mean, *invstd, *y, *R, *part;
    int order;
    double *v; /* VBP_RELU_THEN_BN: the ReLU's input; z = relu(v) */
} bn_ctx;

static double bn_obj(void *p)
{
    bn_ctx *k = p;
    if (k->order == VBP_RELU_THEN_BN)
        for (size_t i = 0; i < k->n * k->c * k->P; i++)
            k->z[i] = k->v[i] > 0 ? k->v[i] : 0;
    vbp_bnrelu_forward_d(k->y, k->z, k->gamma, k->beta, k->rm, k->rv, k->mean, k->invstd, k->n,
                         k->c, k->P, 0.1, 1e-5, k->order, k->part, 1);
    return dot(k->y, k->R, k->n * k->c * k->P);
}

static void bn_case(size_t n, size_t c, size_t P, int order)
{
    const size_t N = n * c * P;
    bn_ctx k = {n, c, P, rand_vec(N), rand_vec(c), rand_vec(c), calloc(c, 8), calloc(c, 8),
                calloc(c, 8), calloc(c, 8), rand_vec(N), rand_vec(N), malloc(2 * n * c * 8),
                order, rand_vec(N)};
    for (size_t i = 0; i < N; i++)
        k.z[i] = 3 * k.z[i] + 1; /* non-zero mean, non-unit variance */
    for (size_t i = 0; i < N; i++) { /* v off the ReLU's kink, for the finite differences */
        k.v[i] = 3 * k.v[i] + 0.5;
        k.v[i] = fabs(k.v[i]) < 1e-3 ? 1e-3 : k.v[i];
    }
    if (order == VBP_RELU_THEN_BN)
        for (size_t i = 0; i < N; i++)
            k.z[i] = k.v[i] > 0 ? k.v[i] : 0;
    for (size_t i = 0; i < c; i++)
        k.rv[i] = 1;
    bn_obj(&k);
    /* running statistics: momentum 0.1, unbiased variance */
    for (size_t ci = 0; ci < c; ci++) {
        double s = 0, ss = 0, M = (double)(n * P);
        for (size_t ni = 0; ni < n; ni++)
            for (size_t i = 0; i < P; i++)
                s += k.z[(ni * c + ci) * P + i];
        const double mean = s / M;
        for (size_t ni = 0; ni < n; ni++)
            for (size_t i = 0; i < P; i++)
                ss += pow(k.z[(ni * c + ci) * P + i] - mean, 2);
        assert_true(fabs(k.rm[ci] - 0.1 * mean) < 1e-12);
        const double unb = M > 1 ? ss / (M - 1) : ss / M;
        assert_true(fabs(k.rv[ci] - (0.9 + 0.1 * unb)) < 1e-12);
        assert_true(fabs(k.invstd[ci] - 1 / sqrt(ss / M + 1e-5)) < 1e-9);
    }
    double *dz = malloc(N * 8), *dg = calloc(c, 8), *dbeta = calloc(c, 8);
    vbp_bnrelu_backward_d(dz, dg, dbeta, k.R, k.z, k.gamma, k.beta, k.mean, k.invstd, n, c, P,
                          order, k.part, 2);
    if (order == VBP_RELU_THEN_BN) { /* the gradient of the ReLU's input v */
        check_grad("bn dv", bn_obj, &k, k.v, dz, N, 200);
    } else {
        check_grad("bn dz", bn_obj, &k, k.z, dz, N, 200);
    }
    check_grad("bn dgamma", bn_obj, &k, k.gamma, dg, c, 0);
    check_grad("bn dbeta", bn_obj, &k, k.beta, dbeta, c, 0);
    /* in place (dz == dy) gives the same result */
    double *dy = malloc(N * 8), *dg2 = calloc(c, 8), *db2 = calloc(c, 8);
    memcpy(dy, k.R, N * 8);
    bn_obj(&k);
    vbp_bnrelu_backward_d(dy, dg2, db2, dy, k.z, k.gamma, k.beta, k.mean, k.invstd, n, c, P, order,
                          k.part, 2);
    assert_memory_equal(dy, dz, N * 8);
    /* float instantiation */
    float *fz = to_float(k.z, N), *fg = to_float(k.gamma, c), *fb = to_float(k.beta, c);
    float *frm = calloc(c, 4), *frv = calloc(c, 4), *fm = calloc(c, 4), *fis = calloc(c, 4);
    float *fy = malloc(N * 4), *fR = to_float(k.R, N), *fdz = malloc(N * 4);
    float *fdg = calloc(c, 4), *fdb = calloc(c, 4);
    vbp_bnrelu_forward_f(fy, fz, fg, fb, frm, frv, fm, fis, n, c, P, 0.1, 1e-5, order, k.part, 2);
    assert_true(rel_err_fd(fy, k.y, N) < 1e-5);
    vbp_bnrelu_backward_f(fdz, fdg, fdb, fR, fz, fg, fb, fm, fis, n, c, P, order, k.part, 2);
    assert_true(rel_err_fd(fdz, dz, N) < 1e-4);
    assert_true(rel_err_fd(fdg, dg, c) < 1e-4);
    free(k.z), free(k.gamma), free(k.beta), free(k.rm), free(k.rv), free(k.mean), free(k.invstd);
    free(k.y), free(k.R), free(k.part), free(k.v), free(dz), free(dg), free(dbeta), free(dy);
    free(dg2);
    free(db2), free(fz), free(fg), free(fb), free(frm), free(frv), free(fm), free(fis), free(fy);
    free(fR), free(fdz), free(fdg), free(fdb);
}

static void bnrelu_grad(void **state)
{
    (void)state;
    for (int order = VBP_BN_THEN_RELU; order <= VBP_RELU_THEN_BN; order++) {
        bn_case(2, 3, 10, order);
        bn_case(1, 1, 7, order);
        bn_case(3, 2, 1, order);
        bn_case(1, 4, 2500, order); /* several summation blocks per plane */
    }
}

/* --------------------------------------------------------------- maxpool */

typedef struct mp_ctx {
    size_t n, c, h, w;
    double *in, *out, *R;
} mp_ctx;

static double mp_obj(void *p)
{
    mp_ctx *k = p;
    vbp_maxpool_forward_d(k->out, k->in, k->n, k->c, k->h, k->w, 1);
    return dot(k->out, k->R, k->n * k->c * k->h * k->w / 4);
}

static void maxpool_case(size_t n, size_t c, size_t h, size_t w)
{
    const size_t N = n * c * h * w;
    mp_ctx k = {n, c, h, w, rand_vec(N), rand_vec(N / 4), rand_vec(N / 4)};
    double *din = calloc(N, 8);
    mp_obj(&k);
    vbp_maxpool_backward_d(din, k.R, k.in, k.out, n, c, h, w, 2);
    check_grad("maxpool din", mp_obj, &k, k.in, din, N, 0);
    /* backward adds to din */
    vbp_maxpool_backward_d(din, k.R, k.in, k.out, n, c, h, w, 2);
    double s = 0, r = 0;
    for (size_t i = 0; i < N; i++)
        s += din[i];
    for (size_t i = 0; i < N / 4; i++)
        r += k.R[i];
    assert_true(fabs(s - 2 * r) < 1e-9);
    free(k.in), free(k.out), free(k.R), free(din);
}

static void maxpool_grad(void **state)
{
    (void)state;
    maxpool_case(2, 3, 6, 8);
    maxpool_case(1, 1, 2, 2);
    maxpool_case(1, 2, 4, 10);
    /* ties: the gradient goes to the first maximum in row-major order */
    const double in[4] = {1, 3, 3, 3};
    double out[1], din[4] = {0}, g[1] = {1};
    vbp_maxpool_forward_d(out, in, 1, 1, 2, 2, 1);
    vbp_maxpool_backward_d(din, g, in, out, 1, 1, 2, 2, 1);
    assert_true(out[0] == 3 && din[0] == 0 && din[1] == 1 && din[2] == 0 && din[3] == 0);
}

/* ------------------------------------------------------------- upsample */

typedef struct up_ctx {
    size_t n, c, h, w, ns;
    double *in, *out, *R;
    int up;
} up_ctx;

static double up_obj(void *p)
{
    up_ctx *k = p;
    vbp_up2x_forward_d(k->out, k->ns, k->in, k->n, k->c, k->h, k->w, k->up, 1);
    return dot(k->out, k->R, k->n * k->ns);
}

static void up_case(size_t n, size_t c, size_t h, size_t w, int up)
{
    const size_t N = n * c * h * w, ns = c * 4 * h * w + 5; /* a gap after each sample */
    up_ctx k = {n, c, h, w, ns, rand_vec(N), calloc(n * ns, 8), rand_vec(n * ns), up};
    for (size_t s = 0; s < n; s++)
        for (size_t i = c * 4 * h * w; i < ns; i++)
            k.R[s * ns + i] = 0, k.out[s * ns + i] = 7;
    double *din = malloc(N * 8);
    up_obj(&k);
    for (size_t s = 0; s < n; s++) /* the gap is not written */
        assert_true(k.out[s * ns + ns - 1] == 7);
    vbp_up2x_backward_d(din, k.R, ns, n, c, h, w, up, 2);
    check_grad("up2x din", up_obj, &k, k.in, din, N, 0);
    free(k.in), free(k.out), free(k.R), free(din);
}

static void up2x(void **state)
{
    (void)state;
    /* known values: [1, 2] -> [1, 1.25, 1.75, 2] (PyTorch, align_corners=False) */
    const double in[2] = {1, 2};
    double out[8];
    vbp_up2x_forward_d(out, 8, in, 1, 1, 1, 2, VBP_UP_BILINEAR, 1);
    const double want[4] = {1, 1.25, 1.75, 2};
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 4; i++)
            assert_true(out[r * 4 + i] == want[i]);
    /* nearest (Keras' UpSampling2D): [[1, 2], [3, 4]] -> each value in a 2x2 square */
    const double in2[4] = {1, 2, 3, 4};
    double out2[16];
    vbp_up2x_forward_d(out2, 16, in2, 1, 1, 2, 2, VBP_UP_NEAREST, 1);
    for (int i = 0; i < 16; i++)
        assert_true(out2[i] == in2[(i / 8) * 2 + (i % 4) / 2]);
    for (int up = VBP_UP_BILINEAR; up <= VBP_UP_NEAREST; up++) {
        up_case(2, 3, 3, 5, up);
        up_case(1, 1, 1, 1, up);
        up_case(1, 2, 4, 1, up);
        up_case(2, 1, 2, 7, up);
    }
}

static void concat_copies(void **state)
{
    (void)state;
    /* dst holds 2 samples of 5 floats; the source (2 samples x 3) goes at offset 2 */
    const double src[6] = {1, 2, 3, 4, 5, 6};
    double dst[10] = {0}, back[6] = {0};
    vbp_channels_scatter_d(dst + 2, 5, src, 2, 3, 2);
    const double want[10] = {0, 0, 1, 2, 3, 0, 0, 4, 5, 6};
    assert_memory_equal(dst, want, sizeof want);
    vbp_channels_gather_d(back, dst + 2, 5, 2, 3, 0, 2);
    assert_memory_equal(back, src, sizeof src);
    vbp_channels_gather_d(back, dst + 2, 5, 2, 3, 1, 2);
    for (int i = 0; i < 6; i++)
        assert_true(back[i] == 2 * src[i]);
}

/* --------------------------------------------------------- motion prompt */

typedef struct mo_ctx {
    size_t n, S, cf, P;
    double *z, *x, *out, *R;
    double ab[2]; /* the scalars a, b */
} mo_ctx;

static double mo_obj(void *p)
{
    mo_ctx *k = p;
    vbp_motion_forward_d(k->out, NULL, NULL, k->z, k->x, k->ab[0], k->ab[1], k->n, k->S, k->cf,
                         k->P, 1);
    return dot(k->out, k->R, k->n * k->S * k->P);
}

static void motion_case(size_t n, size_t S, size_t cf, size_t P, double a, double b)
{
    const size_t No = n * S * P, Nx = n * S * cf * P;
    mo_ctx k = {n, S, cf, P, rand_vec(No), rand_vec(Nx), malloc(No * 8), rand_vec(No), {a, b}};
    for (size_t i = 0; i < No; i++)
        k.z[i] *= 4; /* logits */
    for (size_t i = 0; i < Nx; i++)
        k.x[i] = fabs(k.x[i]); /* frames in [0, 1] */
    double *att = malloc(No * 8), *dabs = malloc(No * 8), *out2 = malloc(No * 8);
    double *dz = malloc(No * 8), *part = malloc(2 * n * S * 8), dab[2] = {0, 0};
    vbp_motion_forward_d(out2, att, dabs, k.z, k.x, a, b, n, S, cf, P, 2);
    mo_obj(&k);
    assert_memory_equal(out2, k.out, No * 8); /* storing att and |d| changes nothing */
    /* the formula at one pixel: frame 1 of sample 0, a central difference when S > 2 */
    {
        const size_t t = 1, i = P / 2, t0 = t - 1, t1 = t + 1 < S ? t + 1 : t;
        double g[2];
        for (int j = 0; j < 2; j++) {
            const double *f = k.x + (j ? t1 : t0) * cf * P + i;
            g[j] = cf == 1 ? f[0] * 0.225 + 0.45
                           : 0.299 * (f[0] * 0.225 + 0.45) + 0.587 * (f[P] * 0.225 + 0.45) +
                                 0.114 * (f[2 * P] * 0.225 + 0.45);
        }
        const double d = (g[1] - g[0]) * (t1 - t0 == 2 ? 0.5 : 1);
        const double kk = 5 / (0.45 * fabs(tanh(a)) + 0.1), c = 0.6 * tanh(b);
        const double A = 1 / (1 + exp(-kk * (fabs(d) - c)));
        assert_true(fabs(att[t * P + i] - A) < 1e-12);
        assert_true(fabs(k.out[t * P + i] - k.z[t * P + i] * A) < 1e-12);
    }
    vbp_motion_backward_d(dz, part, k.R, k.z, att, dabs, a, b, n, S, P, 2);
    vbp_motion_reduce_d(&dab[0], &dab[1], part, n * S, a, b);
    check_grad("motion dz", mo_obj, &k, k.z, dz, No, 200);
    check_grad("motion da db", mo_obj, &k, k.ab, dab, 2, 0);
    /* float instantiation */
    float *fz = to_float(k.z, No), *fx = to_float(k.x, Nx), *fR = to_float(k.R, No);
    float *fo = malloc(No * 4), *fatt = malloc(No * 4), *fabs_ = malloc(No * 4);
    float *fdz = malloc(No * 4), fab[2] = {0, 0};
    vbp_motion_forward_f(fo, fatt, fabs_, fz, fx, (float)a, (float)b, n, S, cf, P, 2);
    assert_true(rel_err_fd(fo, k.out, No) < 1e-5);
    vbp_motion_backward_f(fdz, part, fR, fz, fatt, fabs_, (float)a, (float)b, n, S, P, 2);
    vbp_motion_reduce_f(&fab[0], &fab[1], part, n * S, (float)a, (float)b);
    assert_true(rel_err_fd(fdz, dz, No) < 1e-5);
    /* sums over pixels of terms of both signs taken in float: 1.6e-4 seen */
    assert_true(rel_err_fd(fab, dab, 2) < 1e-3);
    free(k.z), free(k.x), free(k.out), free(k.R), free(att), free(dabs), free(out2), free(dz);
    free(part), free(fz), free(fx), free(fR), free(fo), free(fatt), free(fabs_), free(fdz);
}

static void motion_grad(void **state)
{
    (void)state;
    motion_case(2, 3, 1, 37, 0.1, 0.0);  /* gray, Keras' initial scalars */
    motion_case(1, 4, 3, 29, -0.7, 0.3); /* RGB, four frames: both central differences */
    motion_case(2, 2, 1, 50, 0.0, -0.2); /* two frames; a = 0: |tanh a| has gradient 0 there */
}

/* ------------------------------------------------------------------ loss */

typedef struct loss_ctx {
    size_t n;
    double *z, *p, *y, *part;
} loss_ctx;

static double loss_obj(void *q)
{
    loss_ctx *k = q;
    vbp_sigmoid_forward_d(k->p, k->z, k->n, 1);
    return vbp_wbce_loss_d(NULL, k->p, k->y, k->n, 1e-7, k->part, 1);
}

static void loss_grad(void **state)
{
    (void)state;
    const size_t n = 2 * VBP_LOSS_CHUNK + 11;
    loss_ctx k = {n, rand_vec(n), malloc(n * 8), rand_vec(n), malloc(4 * 8)};
    for (size_t i = 0; i < n; i++) {
        k.z[i] *= 6;
        k.y[i] = i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : fabs(k.y[i]); /* hard and soft targets */
    }
    double *dz = malloc(n * 8);
    const double L = loss_obj(&k);
    /* the value is the mean of the formula */
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const double p = k.p[i], y = k.y[i];
        s += -((1 - p) * (1 - p) * y * log(p) + p * p * (1 - y) * log(1 - p));
    }
    assert_true(fabs(L - s / (double)n) < 1e-12);
    vbp_wbce_loss_d(dz, k.p, k.y, n, 1e-7, k.part, 2);
    check_grad("loss dz", loss_obj, &k, k.z, dz, n, 300);
    /* outside the clip interval the gradient is zero and the loss uses the clipped value */
    double z[2] = {40, -40}, p[2], y[2] = {0, 1}, g[2];
    vbp_sigmoid_forward_d(p, z, 2, 1);
    const double Lc = vbp_wbce_loss_d(g, p, y, 2, 1e-7, k.part, 1);
    const double hi = 1 - 1e-7, lo = 1e-7;
    const double want = (-(hi * hi * log(1 - hi)) - ((1 - lo) * (1 - lo) * log(lo))) / 2;
    assert_true(g[0] == 0 && g[1] == 0);
    assert_true(fabs(Lc - want) < 1e-9 * want);
    /* float instantiation */
    float *fz = to_float(k.z, n), *fy = to_float(k.y, n), *fp = malloc(n * 4), *fdz = malloc(n * 4);
    vbp_sigmoid_forward_f(fp, fz, n, 2);
    assert_true(rel_err_fd(fp, k.p, n) < 1e-6); /* vector exp of the float path */
    const double Lf = vbp_wbce_loss_f(fdz, fp, fy, n, 1e-7, k.part, 2);
    assert_true(fabs(Lf - L) < 1e-5 * L);
    assert_true(rel_err_fd(fdz, dz, n) < 1e-4);
    /* extreme logits stay finite in the float path; 17 values cover the scalar tail too */
    float ez[17], ep[17];
    for (int i = 0; i < 17; i++)
        ez[i] = (float)(i - 8) * 25.0f;
    vbp_sigmoid_forward_f(ep, ez, 17, 1);
    for (int i = 0; i < 17; i++)
        assert_true(ep[i] >= 0 && ep[i] <= 1 && (i != 8 || ep[i] == 0.5f));
    free(k.z), free(k.p), free(k.y), free(k.part), free(dz), free(fz), free(fy), free(fp);
    free(fdz);
}

/* vbp_bnrelu_apply_pool = vbp_bnrelu_apply then vbp_maxpool_forward, bit for bit. */
static void apply_pool_fused(void **state)
{
    (void)state;
    const size_t n = 2, c = 3, h = 6, w = 42, P = h * w, N = n * c * P;
    float *z = rand_fvec(N), *gamma = rand_fvec(c), *beta = rand_fvec(c), *mean = rand_fvec(c);
    float *invstd = rand_fvec(c), *y1 = malloc(N * 4), *y2 = malloc(N * 4);
    float *p1 = malloc(N), *p2 = malloc(N); /* N/4 floats each */
    for (size_t i = 0; i < N; i += 7)
        z[i] = z[i + 1 < N ? i + 1 : i]; /* ties inside windows */
    for (size_t i = 0; i < c; i++) /* every channel crosses zero: both sides of the ReLU */
        invstd[i] = 1 + invstd[i] * invstd[i], mean[i] *= 0.2f, beta[i] *= 0.2f;
    for (int order = VBP_BN_THEN_RELU; order <= VBP_RELU_THEN_BN; order++) {
        vbp_bnrelu_apply_f(y1, z, gamma, beta, mean, invstd, n, c, P, order, 2);
        vbp_maxpool_forward_f(p1, y1, n, c, h, w, 2);
        vbp_bnrelu_apply_pool_f(y2, p2, z, gamma, beta, mean, invstd, n, c, h, w, order, 2);
        assert_memory_equal(y1, y2, N * 4);
        assert_memory_equal(p1, p2, N);
        size_t zeros = 0, pos = 0, neg = 0; /* both sides of the ReLU were exercised */
        for (size_t i = 0; i < N; i++)
            zeros += y1[i] == 0, pos += y1[i] > 0, neg += y1[i] < 0;
        if (order == VBP_BN_THEN_RELU)
            assert_true(zeros > N / 10 && pos > N / 10 && neg == 0);
        else /* no ReLU after the BatchNorm */
            assert_true(zeros == 0 && neg > N / 10 && pos > N / 10);
    }
    free(z), free(gamma), free(beta), free(mean), free(invstd), free(y1), free(y2), free(p1);
    free(p2);
}

/*
 * The fused training backward of a sep block against its layers in a row (upsampling and
 * concatenation, depthwise forward, pointwise backward, depthwise backward, upsampling
 * backward): the same bits, on
 * planes of several pointwise chunks whose width does not divide a chunk, rows longer than a
 * chunk, more than 8 channels (packed tiles), widths of whole registers, with and without
 * upsampled channels; the input gradient in its own buffers and in dout's (one sample).
 */
static void sep_backward_fused(void **state)
{
    (void)state;
    const size_t shapes[][5] = {/* ci, cl, co, h, w */
                                {12, 0, 8, 40, 200}, {3, 0, 8, 24, 512}, {10, 0, 16, 3, 4104},
                                {2, 0, 3, 5, 16},    {12, 8, 8, 40, 200}, {24, 16, 8, 18, 512},
                                {6, 2, 5, 6, 4112}};
    for (size_t k = 0; k < 2 * sizeof shapes / sizeof shapes[0]; k++) {
        const int up = k % 2 ? VBP_UP_NEAREST : VBP_UP_BILINEAR;
        const size_t *shape = shapes[k / 2];
        const size_t ci = shape[0], cl = shape[1], co = shape[2], h = shape[3];
        const size_t w = shape[4], n = 2, P = h * w, K = co * ci + co;
        if (up == VBP_UP_NEAREST && !cl)
            continue;
        const size_t units = VBP_PW_UNITS(n, P), cx = ci - cl;
        float *lo = rand_fvec(n * cl * P / 4 + 1), *x = rand_fvec(n * cx * P);
        float *dout = rand_fvec(n * co * P), *dwt = rand_fvec(ci * 9), *pwt = rand_fvec(co * ci);
        float *in = malloc(n * ci * P * 4), *dwo = malloc(n * ci * P * 4);
        float *t1 = malloc(n * ci * P * 4), *din1 = malloc(n * ci * P * 4);
        float *dlo = malloc(n * cl * P + 4), *dx = malloc(n * cx * P * 4); /* dlo: P/4 each */
        float *dlo1 = malloc(n * cl * P + 4);
        float *part1 = malloc(units * K * 4), *part2 = malloc(units * K * 4);
        float *dg = calloc(ci * 9, 4), *scratch = malloc(VBP_SEP_BWD_SCRATCH(ci, w) * 4);
        float *both = malloc((ci > co ? ci : co) * P * 4);
        double *dp1 = malloc(n * ci * 9 * 8), *dp2 = malloc(n * ci * 9 * 8);
        if (cl)
            vbp_up2x_forward_f(in, ci * P, lo, n, cl, h / 2, w / 2, up, 1);
        vbp_channels_scatter_f(in + cl * P, ci * P, x, n, cx * P, 1);
        vbp_dwconv_forward_f(dwo, in, dwt, n, ci, h, w, 1);
        vbp_pwconv_backward_part_f(t1, part1, dout, dwo, pwt, n, ci, co, P, 1);
        vbp_dwconv_backward_f(din1, dg, t1, in, dwt, n, ci, h, w, dp1, 1);
        if (cl)
            vbp_up2x_backward_f(dlo1, din1, ci * P, n, cl, h / 2, w / 2, up, 1);
        vbp_sep_backward_part_f(dlo, dx, part2, dp2, dout, cl ? lo : NULL, x, dwt, pwt, n, cl, ci,
                                co, h, w, up, scratch);
        assert_memory_equal(part1, part2, units * K * 4);
        assert_memory_equal(dp1, dp2, n * ci * 9 * 8);
        assert_memory_equal(dlo1, dlo, n * cl * P);
        for (size_t s = 0; s < n; s++)
            assert_memory_equal(din1 + (s * ci + cl) * P, dx + s * cx * P, cx * P * 4);
        /* Sample 0 again, the gradient of x in dout's buffer. */
        memcpy(both, dout, co * P * 4);
        vbp_sep_backward_part_f(dlo, both, part2, dp2, both, cl ? lo : NULL, x, dwt, pwt, 1, cl,
                                ci, co, h, w, up, scratch);
        assert_memory_equal(part1, part2, VBP_PW_UNITS(1, P) * K * 4);
        assert_memory_equal(din1 + cl * P, both, cx * P * 4);
        free(lo), free(x), free(dout), free(dwt), free(pwt), free(in), free(dwo), free(t1);
        free(din1), free(dlo), free(dx), free(part1), free(part2), free(dg), free(scratch);
        free(both), free(dp1), free(dp2), free(dlo1);
    }
}

/*
 * The BatchNorm statistics the fused pass makes band by band (vbp_sep_eval with stats) and
 * those of vbp_bn_stats, against a two-pass sum in double over the same output, on planes of
 * several bands with a mean far from 0 (a shift that a sum of squares would cancel).
 */
static void sep_eval_stats(void **state)
{
    (void)state;
    const size_t n = 2, cl = 4, ci = 12, co = 8, h = 40, w = 200, P = h * w;
    float *lo = rand_fvec(n * cl * P / 4), *x = rand_fvec(n * (ci - cl) * P);
    float *dwt = rand_fvec(ci * 9), *pwt = rand_fvec(co * ci), *bias = rand_fvec(co);
    float *out = malloc(n * co * P * 4);
    float *scratch = malloc(VBP_SEP_SCRATCH(ci, h, w, sizeof(float)) * 4);
    double *st = malloc(n * co * 2 * 8), *st2 = malloc(n * co * 2 * 8);
    for (size_t o = 0; o < co; o++)
        bias[o] = 100 + bias[o];
    vbp_sep_eval_f(out, lo, x, dwt, pwt, bias, NULL, 0, NULL, NULL, NULL, NULL, 0, n, cl, ci, co, h,
                   w, VBP_UP_BILINEAR, NULL, st, scratch);
    vbp_bn_stats_f(st2, out, n, co, P, 1);
    for (size_t pl = 0; pl < n * co; pl++) {
        double s = 0, q = 0;
        for (size_t i = 0; i < P; i++)
            s += out[pl * P + i];
        for (size_t i = 0; i < P; i++)
            q += pow(out[pl * P + i] - s / P, 2);
        assert_true(q > 1e-3 * P); /* a real spread */
        for (int k = 0; k < 2; k++) {
            const double *a = k ? st2 : st;
            assert_true(fabs(a[2 * pl] - s) < 1e-5 * fabs(s)); /* float pieces of 1024 */
            assert_true(fabs(a[2 * pl + 1] - q) < 1e-4 * q);
        }
    }
    free(lo), free(x), free(dwt), free(pwt), free(bias), free(out), free(scratch), free(st);
    free(st2);
}

/*
 * The eval pass with the polyphase depthwise rows over the upsampled channels (VBP_UP_POLY)
 * against the same pass over the upsampled rows (VBP_UP_NEAREST, bit-identical to the layers
 * in a row: test_net): within rounding, in float and in double (where rounding is 1e-16, so
 * a wrong tap or border shows), on widths that are and are not whole vectors, source rows of
 * one pixel, planes of one source row, with the pooling and with the head.
 */
static void sep_eval_poly(void **state)
{
    (void)state;
    const size_t shapes[][5] = {/* ci, cl, co, h, w */
                                {12, 8, 8, 40, 200}, {6, 4, 5, 2, 2}, {5, 3, 4, 6, 34},
                                {24, 16, 8, 18, 512}, {4, 2, 3, 4, 2}, {7, 7, 6, 8, 66}};
    for (size_t k = 0; k < 2 * sizeof shapes / sizeof shapes[0]; k++) {
        const size_t *sh = shapes[k / 2];
        const size_t ci = sh[0], cl = sh[1], co = sh[2], h = sh[3], w = sh[4], n = 2, P = h * w;
        const size_t S = k % 2 ? 3 : 0, so = S ? S : co, no = n * so * P, np = n * co * P / 4;
        float *lo = rand_fvec(n * cl * P / 4), *x = rand_fvec(n * (ci - cl) * P + 1);
        float *dwt = rand_fvec(ci * 9), *pwt = rand_fvec(co * ci), *bias = rand_fvec(co);
        float *hw = rand_fvec(3 * co), *hb = rand_fvec(3);
        double *dlo = malloc(n * cl * P / 4 * 8), *dx = malloc((n * (ci - cl) * P + 1) * 8);
        double *ddw = malloc(ci * 9 * 8), *dpw = malloc(co * ci * 8), *db = malloc(co * 8);
        double *dhw = malloc(3 * co * 8), *dhb = malloc(3 * 8);
        for (size_t i = 0; i < n * cl * P / 4; i++)
            dlo[i] = lo[i];
        for (size_t i = 0; i < n * (ci - cl) * P + 1; i++)
            dx[i] = x[i];
        for (size_t i = 0; i < ci * 9; i++)
            ddw[i] = dwt[i];
        for (size_t i = 0; i < co * ci; i++)
            dpw[i] = pwt[i];
        for (size_t i = 0; i < co; i++)
            db[i] = bias[i];
        for (size_t i = 0; i < 3 * co; i++)
            dhw[i] = hw[i];
        for (size_t i = 0; i < 3; i++)
            dhb[i] = hb[i];
        float *o1 = malloc(no * 4), *o2 = malloc(no * 4), *p1 = malloc(np * 4 + 4);
        float *p2 = malloc(np * 4 + 4), *sc = malloc(VBP_SEP_SCRATCH(ci, h, w, 8) * 8);
        double *d1 = malloc(no * 8), *d2 = malloc(no * 8), *q1 = malloc(np * 8 + 8);
        double *q2 = malloc(np * 8 + 8), *dsc = malloc(VBP_SEP_SCRATCH(ci, h, w, 8) * 8);
        int up = VBP_UP_NEAREST;
        for (int pass = 0; pass < 2; pass++, up = VBP_UP_POLY) {
            vbp_sep_eval_f(pass ? o2 : o1, lo, x, dwt, pwt, bias, NULL, 1, NULL, NULL,
                           S ? hw : NULL, hb, S, n, cl, ci, co, h, w, up,
                           S ? NULL : pass ? p2 : p1, NULL, sc);
            vbp_sep_eval_d(pass ? d2 : d1, dlo, dx, ddw, dpw, db, NULL, 1, NULL, NULL,
                           S ? dhw : NULL, dhb, S, n, cl, ci, co, h, w, up,
                           S ? NULL : pass ? q2 : q1, NULL, dsc);
        }
        size_t pos = 0;
        for (size_t i = 0; i < no; i++) {
            assert_true(fabsf(o1[i] - o2[i]) <= 1e-5f * (1 + fabsf(o1[i])));
            assert_true(fabs(d1[i] - d2[i]) <= 1e-13 * (1 + fabs(d1[i])));
            pos += o1[i] > 0;
        }
        assert_true(pos > no / 8); /* not a constant (ReLU) */
        for (size_t i = 0; !S && i < np; i++) {
            assert_true(fabsf(p1[i] - p2[i]) <= 1e-5f * (1 + fabsf(p1[i])));
            assert_true(fabs(q1[i] - q2[i]) <= 1e-13 * (1 + fabs(q1[i])));
        }
        free(lo), free(x), free(dwt), free(pwt), free(bias), free(hw), free(hb), free(dlo);
        free(dx), free(ddw), free(dpw), free(db), free(dhw), free(dhb), free(o1), free(o2);
        free(p1), free(p2), free(sc), free(d1), free(d2), free(q1), free(q2), free(dsc);
    }
}

/* Results do not depend on the thread count (fixed reduction chunks). */
static void thread_count_invariant(void **state)
{
    (void)state;
    const size_t n = 3, ci = 5, co = 7, P = 2 * VBP_PW_CHUNK + 100;
    float *in = rand_fvec(n * ci * P), *w = rand_fvec(co * ci), *g = rand_fvec(n * co * P);
    float *part = malloc(VBP_PW_UNITS(n, P) * (co * ci + co) * 4);
    float *dw1 = calloc(co * ci, 4), *dw3 = calloc(co * ci, 4), *db1 = calloc(co, 4);
    float *db3 = calloc(co, 4);
    vbp_pwconv_backward_f(NULL, dw1, db1, g, in, w, n, ci, co, P, part, 1);
    vbp_pwconv_backward_f(NULL, dw3, db3, g, in, w, n, ci, co, P, part, 3);
    assert_memory_equal(dw1, dw3, co * ci * 4);
    assert_memory_equal(db1, db3, co * 4);
    free(in), free(w), free(g), free(part), free(dw1), free(dw3), free(db1), free(db3);
}

/* VBP_ISA=generic always gets the portable kernels; a set the CPU lacks falls back. */
static void isa_forced(void **state)
{
    (void)state;
    const char *want = getenv("VBP_ISA"), *isa = vbp_net_isa_name();
    assert_true(!strcmp(isa, "avx512") || !strcmp(isa, "avx2") || !strcmp(isa, "generic"));
    if (want && !strcmp(want, "generic"))
        assert_string_equal(isa, "generic");
    if (want && !strcmp(want, "avx2"))
        assert_string_not_equal(isa, "avx512");
}

int main(void)
{
    printf("layer kernels: %s (VBP_ISA=%s)\n", vbp_net_isa_name(),
           getenv("VBP_ISA") ? getenv("VBP_ISA") : "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dwconv_grad),   cmocka_unit_test(pwconv_grad),
        cmocka_unit_test(bnrelu_grad),   cmocka_unit_test(maxpool_grad),
        cmocka_unit_test(up2x),          cmocka_unit_test(concat_copies),
        cmocka_unit_test(loss_grad),     cmocka_unit_test(thread_count_invariant),
        cmocka_unit_test(isa_forced),    cmocka_unit_test(apply_pool_fused),
        cmocka_unit_test(sep_backward_fused), cmocka_unit_test(sep_eval_stats),
        cmocka_unit_test(sep_eval_poly),
        cmocka_unit_test(motion_grad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

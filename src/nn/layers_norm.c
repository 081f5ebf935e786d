/*
 * layers_norm.c - BatchNorm2d and ReLU in either order, PyTorch semantics (docs/network.md).
 * Per-channel sums are taken per (sample, channel) plane in double and added
 * over samples in order, so statistics do not depend on the thread count.
 * Compiled for float and double (layers_tmpl.h).
 */
#ifndef VBP_TMPL_PASS
#include <math.h>
#include "layers.h"
#define VBP_TMPL_FILE "layers_norm.c"
#include "layers_tmpl.h"
#else
#include "layers_rows.h"
#include "layers_vec.h"

void FN(vbp_bn_stats)(double *part, const real *z, size_t n, size_t c, size_t P, int nt)
{
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        double *st = part + 2 * pl;
        st[0] = st[1] = 0;
        FN(vbp_stats_add)(st, 0, z + pl * P, P);
    }
}

void FN(vbp_bn_reduce)(real *mean, real *invstd, real *run_mean, real *run_var,
                       const double *part, size_t n, size_t c, size_t P, double momentum,
                       double eps)
{
    const double M = (double)n * (double)P;
    for (size_t ci = 0; ci < c; ci++) {
        double s = 0, q = 0;
        for (size_t ni = 0; ni < n; ni++)
            s += part[2 * (ni * c + ci)];
        const double m = s / M;
        for (size_t ni = 0; ni < n; ni++) { /* each plane's deviations, then its mean's */
            const double d = part[2 * (ni * c + ci)] / (double)P - m;
            q += part[2 * (ni * c + ci) + 1] + (double)P * d * d;
        }
        const double var = q / M;
        mean[ci] = (real)m;
        invstd[ci] = (real)(1.0 / sqrt(var + eps));
        if (!run_mean)
            continue;
        run_mean[ci] = (real)((1 - momentum) * run_mean[ci] + momentum * mean[ci]);
        const double unbiased = M > 1 ? var * M / (M - 1) : var;
        run_var[ci] = (real)((1 - momentum) * run_var[ci] + momentum * unbiased);
    }
}

/* The forward's scale and shift of channel ci (here and in the backward). */
#define BN_SCALE(ci) (gamma[ci] * invstd[ci])
#define BN_SHIFT(ci, scale) (beta[ci] - mean[ci] * (scale))

void FN(vbp_bnrelu_apply)(real *y, const real *z, const real *gamma, const real *beta,
                          const real *mean, const real *invstd, size_t n, size_t c, size_t P,
                          int order, int nt)
{
    const int relu = order == VBP_BN_THEN_RELU;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        const size_t ci = pl % c;
        const real scale = BN_SCALE(ci), shift = BN_SHIFT(ci, scale);
        FN(vbp_bnrelu_row)(y + pl * P, z + pl * P, scale, shift, relu, P);
    }
}

void FN(vbp_bnrelu_apply_pool)(real *y, real *pool, const real *z, const real *gamma,
                               const real *beta, const real *mean, const real *invstd, size_t n,
                               size_t c, size_t h, size_t w, int order, int nt)
{
    const size_t P = h * w, ho = h / 2, wo = w / 2;
    const int relu = order == VBP_BN_THEN_RELU;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        const size_t ci = pl % c;
        const real scale = BN_SCALE(ci), shift = BN_SHIFT(ci, scale);
        for (size_t r = 0; r < ho; r++) { /* two rows of y, then their pooled row from cache */
            real *yr = y + pl * P + 2 * r * w;
            FN(vbp_bnrelu_row)(yr, z + pl * P + 2 * r * w, scale, shift, relu, 2 * w);
            FN(vbp_pool_row)(pool + pl * ho * wo + r * wo, yr, yr + w, wo);
        }
    }
}

void FN(vbp_bnrelu_forward)(real *y, const real *z, const real *gamma, const real *beta,
                            real *run_mean, real *run_var, real *mean, real *invstd, size_t n,
                            size_t c, size_t P, double momentum, double eps, int order,
                            double *part, int nt)
{
    FN(vbp_bn_stats)(part, z, n, c, P, nt);
    FN(vbp_bn_reduce)(mean, invstd, run_mean, run_var, part, n, c, P, momentum, eps);
    FN(vbp_bnrelu_apply)(y, z, gamma, beta, mean, invstd, n, c, P, order, nt);
}

/* With VBP_RELU_THEN_BN the sums take dy as it is: the ReLU before the BatchNorm masks the
 * BatchNorm's input gradient (vbp_bnrelu_grad_apply), not its output's. */
void FN(vbp_bnrelu_grad_sums)(double *part, const real *dy, const real *z, const real *gamma,
                              const real *beta, const real *mean, const real *invstd, size_t n,
                              size_t c, size_t P, int order, int nt)
{
    const int mask = order == VBP_BN_THEN_RELU;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        const size_t ci = pl % c;
        const real m = mean[ci], is = invstd[ci], sc = BN_SCALE(ci), sh = BN_SHIFT(ci, sc);
        const real *restrict g = dy + pl * P, *restrict zp = z + pl * P;
        double sg = 0, sgx = 0;
        for (size_t b = 0; b < P; b += 1024) {
            /* Explicit vectors: gcc spilled the `omp simd` reduction to the stack every step. */
            const size_t e = b + 1024 < P ? b + 1024 : P;
            const VEC zero = {0};
            VEC av = zero, axv = zero;
            size_t i = b;
            for (; i + VL <= e; i += VL) {
                VEC gv, zv;
                VLOAD(gv, g + i), VLOAD(zv, zp + i);
                const VEC v = VBP_BN_AFFINE(zv, zero + sc, zero + sh);
                if (mask)
                    gv = (VEC)((__typeof__(v > v))gv & (v > zero));
                av += gv;
                axv += gv * (zv - m) * is;
            }
            real a = 0, ax = 0;
            for (size_t l = 0; l < VL; l++)
                a += av[l], ax += axv[l];
            for (; i < e; i++) {
                const real gi = !mask || VBP_BN_AFFINE(zp[i], sc, sh) > 0 ? g[i] : 0;
                a += gi;
                ax += gi * (zp[i] - m) * is;
            }
            sg += a;
            sgx += ax;
        }
        part[2 * pl] = sg;
        part[2 * pl + 1] = sgx;
    }
}

/* Channel ci's sums over the N samples of part: sum g and sum g*xhat. */
static void FN(grad_channel)(const double *part, size_t N, size_t c, size_t ci, double *sg,
                             double *sgx)
{
    *sg = *sgx = 0;
    for (size_t ni = 0; ni < N; ni++) {
        *sg += part[2 * (ni * c + ci)];
        *sgx += part[2 * (ni * c + ci) + 1];
    }
}

void FN(vbp_bnrelu_grad_apply)(real *dz, real *dgamma, real *dbeta, const real *dy,
                               const real *z, const real *gamma, const real *beta,
                               const real *mean, const real *invstd, const double *part, size_t N,
                               size_t n, size_t c, size_t P, int order, int nt)
{
    const double M = (double)N * (double)P;
    if (dgamma)
        for (size_t ci = 0; ci < c; ci++) {
            double sg, sgx;
            FN(grad_channel)(part, N, c, ci, &sg, &sgx);
            dbeta[ci] += (real)sg;
            dgamma[ci] += (real)sgx;
        }
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * c; pl++) {
        const size_t ci = pl % c;
        double sg, sgx;
        FN(grad_channel)(part, N, c, ci, &sg, &sgx);
        const real m = mean[ci], is = invstd[ci], k = gamma[ci] * is;
        const real sc = BN_SCALE(ci), sh = BN_SHIFT(ci, sc);
        const real mg = (real)(sg / M), mgx = (real)(sgx / M);
        const real *g = dy + pl * P, *restrict zp = z + pl * P;
        real *d = dz + pl * P; /* may be dy: in place */
        if (order == VBP_RELU_THEN_BN) { /* z is the ReLU's output: its mask is z > 0 */
#pragma omp simd
            for (size_t i = 0; i < P; i++) {
                const real v = k * (g[i] - mg - (zp[i] - m) * is * mgx);
                d[i] = zp[i] > 0 ? v : 0;
            }
            continue;
        }
#pragma omp simd
        for (size_t i = 0; i < P; i++) {
            const real gi = VBP_BN_AFFINE(zp[i], sc, sh) > 0 ? g[i] : 0;
            d[i] = k * (gi - mg - (zp[i] - m) * is * mgx);
        }
    }
}

void FN(vbp_bnrelu_backward)(real *dz, real *dgamma, real *dbeta, const real *dy, const real *z,
                             const real *gamma, const real *beta, const real *mean,
                             const real *invstd, size_t n, size_t c, size_t P, int order,
                             double *part, int nt)
{
    FN(vbp_bnrelu_grad_sums)(part, dy, z, gamma, beta, mean, invstd, n, c, P, order, nt);
    FN(vbp_bnrelu_grad_apply)(dz, dgamma, dbeta, dy, z, gamma, beta, mean, invstd, part, n, n, c,
                              P, order, nt);
}
#undef BN_SCALE
#undef BN_SHIFT
#endif

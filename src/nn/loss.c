/*
 * loss.c - sigmoid output and the TrackNet weighted binary cross-entropy.
 *
 *   p  = clamp(sigmoid(z), eps, 1-eps)
 *   L  = mean( -[(1-p)^2 y log p + p^2 (1-y) log(1-p)] )
 *   dL/dz = dL/dp * s(1-s) where eps <= s <= 1-eps (s = unclamped sigmoid), else 0,
 * which is PyTorch's autograd through torch.clamp (gradient passes on the
 * closed interval) and torch.sigmoid.  Compiled for float and double.
 */
#ifndef VBP_TMPL_PASS
#include <stdint.h>
#include <string.h>
#include <tgmath.h>
#include "isa.h"
#include "layers.h"
#include "vmath.h"

#define VBP_TMPL_FILE "loss.c"
#include "layers_tmpl.h"
#else

/* out[i] = exp(-z[i]) (sign = -1) or log(z[i]) (sign = 0) for i < n; out may equal z. */
static void FN(elementary)(real *out, const real *z, size_t n, int use_exp)
{
    size_t i = 0;
#if VBP_REAL_IS_FLOAT
    for (; i + VFL_LANES <= n; i += VFL_LANES) {
        vfl v;
        memcpy(&v, z + i, sizeof v);
        v = use_exp ? vexpf(-v) : vlogf(v);
        memcpy(out + i, &v, sizeof v);
    }
#endif
    for (; i < n; i++)
        out[i] = use_exp ? exp(-z[i]) : log(z[i]);
}

void FN(vbp_sigmoid_forward)(real *p, const real *z, size_t count, int nt)
{
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t b = 0; b < count; b += VBP_LOSS_CHUNK) {
        const size_t e = b + VBP_LOSS_CHUNK < count ? b + VBP_LOSS_CHUNK : count;
        FN(elementary)(p + b, z + b, e - b, 1);
        for (size_t i = b; i < e; i++)
            p[i] = 1 / (1 + p[i]);
    }
}

/*
 * Per element, with q = clamp(s), r = 1 - q (q = s inside the clip interval):
 *   loss = -(r^2 y log q + q^2 (1-y) log r)
 *   dz   = dloss/dq * q r = -(-2 q r^2 y log q + r^3 y + 2 q^2 r (1-y) log r - q^3 (1-y))
 * (dz is the chain rule through the sigmoid written without divisions).
 */
double FN(vbp_wbce_loss)(real *dz, const real *p, const real *y, size_t count, double eps,
                         double *part, int nt)
{
    const real lo = (real)eps, hi = (real)(1.0 - eps), inv = (real)(1.0 / (double)count);
    const size_t chunks = (count + VBP_LOSS_CHUNK - 1) / VBP_LOSS_CHUNK;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t ch = 0; ch < chunks; ch++) {
        const size_t b0 = ch * VBP_LOSS_CHUNK;
        const size_t e0 = b0 + VBP_LOSS_CHUNK < count ? b0 + VBP_LOSS_CHUNK : count;
        double sum = 0;
        for (size_t b = b0; b < e0; b += 256) {
            const size_t len = b + 256 < e0 ? 256 : e0 - b;
            real q[256], r[256], lq[256], lr[256], blk = 0;
            for (size_t i = 0; i < len; i++) {
                const real s = p[b + i];
                q[i] = s < lo ? lo : (s > hi ? hi : s);
                r[i] = 1 - q[i];
            }
            FN(elementary)(lq, q, len, 0);
            FN(elementary)(lr, r, len, 0);
#pragma omp simd reduction(+ : blk)
            for (size_t i = 0; i < len; i++) {
                const real t = y[b + i], u = 1 - t, qi = q[i], ri = r[i];
                blk += -(ri * ri * t * lq[i] + qi * qi * u * lr[i]);
            }
            if (dz)
                for (size_t i = 0; i < len; i++) {
                    const real t = y[b + i], u = 1 - t, qi = q[i], ri = r[i], s = p[b + i];
                    const real g = -(-2 * qi * ri * ri * t * lq[i] + ri * ri * ri * t +
                                     2 * qi * qi * ri * u * lr[i] - qi * qi * qi * u);
                    dz[b + i] = s >= lo && s <= hi ? g * inv : 0;
                }
            sum += blk;
        }
        part[ch] = sum;
    }
    double total = 0;
    for (size_t ch = 0; ch < chunks; ch++)
        total += part[ch];
    return total / (double)count;
}
#endif

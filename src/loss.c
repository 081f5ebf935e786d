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
#include <tgmath.h>
#include "layers.h"
#define VBP_TMPL_FILE "loss.c"
#include "layers_tmpl.h"
#else

void FN(vbp_sigmoid_forward)(real *p, const real *z, size_t count, int nt)
{
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t i = 0; i < count; i++)
        p[i] = 1 / (1 + exp(-z[i]));
}

double FN(vbp_wbce_loss)(real *dz, const real *p, const real *y, size_t count, double eps,
                         double *part, int nt)
{
    const real lo = (real)eps, hi = (real)(1.0 - eps), inv = (real)(1.0 / (double)count);
    const size_t chunks = (count + VBP_LOSS_CHUNK - 1) / VBP_LOSS_CHUNK;
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t ch = 0; ch < chunks; ch++) {
        const size_t b = ch * VBP_LOSS_CHUNK;
        const size_t e = b + VBP_LOSS_CHUNK < count ? b + VBP_LOSS_CHUNK : count;
        double sum = 0;
        for (size_t i = b; i < e; i++) {
            const real s = p[i], t = y[i];
            const int inside = s >= lo && s <= hi;
            const real q = inside ? s : (s < lo ? lo : hi), r = 1 - q;
            /* log terms are only needed when their weight y or 1-y is non-zero. */
            const real lp = t != 0 ? log(q) : 0, lr = t != 1 ? log(r) : 0;
            sum += -(r * r * t * lp + q * q * (1 - t) * lr);
            if (dz) {
                const real dldp = -(-2 * r * t * lp + r * r * t / q + 2 * q * (1 - t) * lr -
                                    q * q * (1 - t) / r);
                dz[i] = inside ? dldp * s * (1 - s) * inv : 0;
            }
        }
        part[ch] = sum;
    }
    double total = 0;
    for (size_t ch = 0; ch < chunks; ch++)
        total += part[ch];
    return total / (double)count;
}
#endif

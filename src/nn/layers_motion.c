/*
 * layers_motion.c - the motion prompt of VballNetV1 and its fusion with the head's logits
 * (docs/network.md, "VballNetV1"): an attention map per frame from the frame differences of
 * the input, two trainable scalars a and b, and out = logits * attention.  Shapes: layers.h.
 * Compiled for float and double (layers_tmpl.h).
 */
#ifndef VBP_TMPL_PASS
#include <tgmath.h>
#include <string.h>
#include "layers.h"
#include "vmath.h"
#define VBP_TMPL_FILE "layers_motion.c"
#include "layers_tmpl.h"
#else

/* The power normalisation's slope k and centre c from the scalars a and b. */
static void FN(motion_kc)(real a, real b, real *k, real *c)
{
    *k = (real)5 / ((real)0.45 * fabs(tanh(a)) + (real)0.1);
    *c = (real)0.6 * tanh(b);
}

/* Gray value of frame t at pixel i of one sample x [S*cf, P], taken on x * 0.225 + 0.45. */
static inline real FN(motion_gray)(const real *x, size_t t, size_t cf, size_t P, size_t i)
{
    const real *f = x + t * cf * P + i;
    if (cf == 1)
        return f[0] * (real)0.225 + (real)0.45;
    return (real)0.299 * (f[0] * (real)0.225 + (real)0.45) +
           (real)0.587 * (f[P] * (real)0.225 + (real)0.45) +
           (real)0.114 * (f[2 * P] * (real)0.225 + (real)0.45);
}

#if VBP_REAL_IS_FLOAT
/* motion_gray of VFL_LANES pixels from i. */
static inline vfl FN(motion_gray_v)(const real *x, size_t t, size_t cf, size_t P, size_t i)
{
    const real *f = x + t * cf * P + i;
    vfl v[3];
    for (size_t c = 0; c < cf; c++)
        memcpy(&v[c], f + c * P, sizeof v[c]);
    if (cf == 1)
        return v[0] * 0.225f + 0.45f;
    return 0.299f * (v[0] * 0.225f + 0.45f) + 0.587f * (v[1] * 0.225f + 0.45f) +
           0.114f * (v[2] * 0.225f + 0.45f);
}
#endif

void FN(vbp_motion_forward)(real *out, real *att, real *dabs, const real *z, const real *x,
                            real a, real b, size_t n, size_t S, size_t cf, size_t P, int nt)
{
    real k, c;
    FN(motion_kc)(a, b, &k, &c);
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * S; pl++) {
        const size_t s = pl / S, t = pl % S;
        const real *xs = x + s * S * cf * P;
        /* d = (g[t1] - g[t0]) * half: forward, backward or central difference */
        const size_t t0 = t ? t - 1 : 0, t1 = t + 1 < S ? t + 1 : S - 1;
        const real half = t > 0 && t + 1 < S ? (real)0.5 : 1;
        size_t i = 0;
#if VBP_REAL_IS_FLOAT /* the same formula on vectors, exp on vectors (vmath.h) */
        for (; i + VFL_LANES <= P; i += VFL_LANES) {
            const vfl d =
                (FN(motion_gray_v)(xs, t1, cf, P, i) - FN(motion_gray_v)(xs, t0, cf, P, i)) * half;
            const vfl ad = (vfl)((vint)d & 0x7fffffff), A = 1.0f / (1.0f + vexpf(-k * (ad - c)));
            vfl zv;
            memcpy(&zv, z + pl * P + i, sizeof zv);
            zv *= A;
            if (att)
                memcpy(att + pl * P + i, &A, sizeof A);
            if (dabs)
                memcpy(dabs + pl * P + i, &ad, sizeof ad);
            memcpy(out + pl * P + i, &zv, sizeof zv);
        }
#endif
        for (; i < P; i++) {
            const real d = (FN(motion_gray)(xs, t1, cf, P, i) - FN(motion_gray)(xs, t0, cf, P, i)) *
                           half;
            const real ad = fabs(d), A = 1 / (1 + exp(-k * (ad - c)));
            if (att)
                att[pl * P + i] = A;
            if (dabs)
                dabs[pl * P + i] = ad;
            out[pl * P + i] = z[pl * P + i] * A;
        }
    }
}

void FN(vbp_motion_backward)(real *dz, double *part, const real *dout, const real *z,
                             const real *att, const real *dabs, real a, real b, size_t n,
                             size_t S, size_t P, int nt)
{
    real k, c;
    FN(motion_kc)(a, b, &k, &c);
#pragma omp parallel for num_threads(nt) schedule(dynamic)
    for (size_t pl = 0; pl < n * S; pl++) {
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < P; i++) {
            const size_t j = pl * P + i;
            const real A = att[j], g = dout[j] * z[j] * A * (1 - A); /* d loss / d(k(|d|-c)) */
            s1 += (double)(g * (dabs[j] - c));
            s2 += (double)g;
            dz[j] = dout[j] * A;
        }
        part[2 * pl] = s1;
        part[2 * pl + 1] = s2;
    }
}

/* dk/da = -5 * 0.45 sign(a) (1 - tanh^2 a) / (0.45 |tanh a| + 0.1)^2 (0 at a = 0, as PyTorch's
 * abs), dc/db = 0.6 (1 - tanh^2 b); the sums are d loss/dk and -(d loss/dc)/k. */
void FN(vbp_motion_reduce)(real *da, real *db, const double *part, size_t planes, real a, real b)
{
    double s1 = 0, s2 = 0;
    for (size_t pl = 0; pl < planes; pl++)
        s1 += part[2 * pl], s2 += part[2 * pl + 1];
    const double ta = tanh((double)a), tb = tanh((double)b), u = 0.45 * fabs(ta) + 0.1;
    const double k = 5 / u, sgn = ta > 0 ? 1 : ta < 0 ? -1 : 0;
    const double dk_da = -5 * 0.45 * sgn * (1 - ta * ta) / (u * u), dc_db = 0.6 * (1 - tb * tb);
    *da += (real)(s1 * dk_da);
    *db += (real)(-k * s2 * dc_db);
}
#endif

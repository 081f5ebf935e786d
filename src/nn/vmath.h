/*
 * vmath.h - float exp and log on vectors of one register (internal; isa.h: 4, 8 or 16
 * lanes), for the float instantiation of the kernels (loss.c, layers_motion.c); the double
 * one calls libm.  Cephes-style range reduction and polynomials, about 1 ulp.
 */
#ifndef VBP_VMATH_H
#define VBP_VMATH_H

#include <stdint.h>
#include "isa.h"

typedef float vfl __attribute__((vector_size(VBP_VBYTES)));
typedef int32_t vint __attribute__((vector_size(VBP_VBYTES)));
#define VFL_LANES (VBP_VBYTES / 4)

static inline vfl vsel(vint m, vfl a, vfl b) /* m ? a : b, lane-wise */
{
    return (vfl)(((vint)a & m) | ((vint)b & ~m));
}

static inline vfl vexpf(vfl x)
{
    const vfl zero = {0};
    x = vsel(x < -87.0f, zero - 87.0f, x);
    x = vsel(x > 88.0f, zero + 88.0f, x);
    const vfl t = x * 1.44269504088896341f + 12582912.0f; /* round(x / ln 2) in the mantissa */
    const vfl n = t - 12582912.0f;
    const vint k = (vint)t - 0x4B400000;
    const vfl r = x - n * 0.693359375f - n * -2.12194440e-4f;
    vfl p = 1.9875691500E-4f * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * r * r + r + 1.0f;
    return p * (vfl)((k + 127) << 23);
}

static inline vfl vlogf(vfl x) /* x positive and normal */
{
    const vint bits = (vint)x;
    vint e = ((bits >> 23) & 0xff) - 126;
    vfl m = (vfl)((bits & 0x807fffff) | 0x3f000000); /* [0.5, 1) */
    const vint small = m < 0.707106781186547524f;
    e = e + small; /* -1 where small */
    m = m - 1.0f + (vfl)((vint)m & small);
    const vfl z = m * m, ef = __builtin_convertvector(e, vfl);
    vfl y = 7.0376836292E-2f * m - 1.1514610310E-1f;
    y = y * m + 1.1676998740E-1f;
    y = y * m - 1.2420140846E-1f;
    y = y * m + 1.4249322787E-1f;
    y = y * m - 1.6668057665E-1f;
    y = y * m + 2.0000714765E-1f;
    y = y * m - 2.4999993993E-1f;
    y = y * m + 3.3333331174E-1f;
    y = y * m * z + ef * -2.12194440e-4f - 0.5f * z;
    return m + y + ef * 0.693359375f;
}

#endif

/*
 * dispatch.c - run-time choice of the layer kernels' instruction set.
 *
 * The kernels are compiled once per set (isa.h, src/meson.build): on x86-64 avx512
 * (AVX-512 F/BW/VL/DQ + FMA), avx2 (AVX2 + FMA) and generic (baseline x86-64), elsewhere
 * generic only.  The first layer call picks the best set the CPU supports; the environment
 * variable VBP_ISA=avx512|avx2|generic picks a lower one (to test or benchmark each path on
 * one machine).  A value that is unknown or above what the CPU supports prints one warning
 * line on stderr and the best supported set is used: a library does not exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "isa.h"
#include "layers.h"
#include "vbp_net.h"

#if defined(__x86_64__)
#define VBP_X86_ISAS 1
#else
#define VBP_X86_ISAS 0
#endif

typedef struct layer_ops {
    const char *name;
#define OP_F(ret, name, params, args) ret (*name##_f) params;
#define OP_D(ret, name, params, args) ret (*name##_d) params;
    VBP_LAYER_FUNCS(OP_F, float)
    VBP_LAYER_FUNCS(OP_D, double)
} layer_ops;

/* Prototypes and the table of one set; ISA names the set where the macros are expanded. */
#define DECL_F(ret, name, params, args) ret VBP_CAT(name##_f_, ISA) params;
#define DECL_D(ret, name, params, args) ret VBP_CAT(name##_d_, ISA) params;
#define INIT_F(ret, name, params, args) .name##_f = VBP_CAT(name##_f_, ISA),
#define INIT_D(ret, name, params, args) .name##_d = VBP_CAT(name##_d_, ISA),

#define ISA generic
VBP_LAYER_FUNCS(DECL_F, float)
VBP_LAYER_FUNCS(DECL_D, double)
static const layer_ops ops_generic = {"generic", VBP_LAYER_FUNCS(INIT_F, float)
                                                     VBP_LAYER_FUNCS(INIT_D, double)};
#undef ISA
#if VBP_X86_ISAS
#define ISA avx2
VBP_LAYER_FUNCS(DECL_F, float)
VBP_LAYER_FUNCS(DECL_D, double)
static const layer_ops ops_avx2 = {"avx2", VBP_LAYER_FUNCS(INIT_F, float)
                                               VBP_LAYER_FUNCS(INIT_D, double)};
#undef ISA
#define ISA avx512
VBP_LAYER_FUNCS(DECL_F, float)
VBP_LAYER_FUNCS(DECL_D, double)
static const layer_ops ops_avx512 = {"avx512", VBP_LAYER_FUNCS(INIT_F, float)
                                                   VBP_LAYER_FUNCS(INIT_D, double)};
#undef ISA
#endif

static const layer_ops *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

/* The sets this CPU (and its OS) can run, best first. */
static size_t supported(const layer_ops *sets[3])
{
    size_t k = 0;
#if VBP_X86_ISAS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("fma"))
        sets[k++] = &ops_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        sets[k++] = &ops_avx2;
#endif
    sets[k++] = &ops_generic;
    return k;
}

static void choose(void)
{
    const layer_ops *sets[3];
    const size_t k = supported(sets);
    const char *want = getenv("VBP_ISA");
    chosen = sets[0];
    if (!want || !*want)
        return;
    for (size_t i = 0; i < k; i++)
        if (!strcmp(want, sets[i]->name)) {
            chosen = sets[i];
            return;
        }
    const int known = !strcmp(want, "avx512") || !strcmp(want, "avx2") || !strcmp(want, "generic");
    fprintf(stderr, "vbpack: VBP_ISA=%s %s; using %s\n", want,
            known ? "is not supported by this CPU" : "is not one of avx512, avx2, generic",
            chosen->name);
}

static inline const layer_ops *ops(void)
{
    pthread_once(&chosen_once, choose);
    return chosen;
}

const char *vbp_net_isa_name(void)
{
    return ops()->name;
}

/* The dispatching names declared in layers.h. */
#define RET_void
#define RET_double return
#define WRAP_F(ret, name, params, args)                                                            \
    ret name##_f params { RET_##ret ops()->name##_f args; }
#define WRAP_D(ret, name, params, args)                                                            \
    ret name##_d params { RET_##ret ops()->name##_d args; }
VBP_LAYER_FUNCS(WRAP_F, float)
VBP_LAYER_FUNCS(WRAP_D, double)

/*
 * cpu.c - run-time choice of the instruction set (cpu.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "cpu.h"
#include "internal.h"

static const char *const isa_names[] = { "generic", "avx2", "avx512" };

const char *vbp_cpu_isa_name(vbp_isa isa)
{
    return vbp_name_of(isa_names, 3, (unsigned)isa);
}

static vbp_isa chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static vbp_isa best_supported(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return VBP_ISA_GENERIC;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return VBP_ISA_AVX512;
    return VBP_ISA_AVX2;
#else
    return VBP_ISA_GENERIC;
#endif
}

static void choose(void)
{
    const vbp_isa best = best_supported();
    const char *want = getenv("VBP_ISA");
    chosen = best;
    if (!want || !*want)
        return;
    int i = vbp_name_find(isa_names, 3, want);
    if (i >= 0 && (vbp_isa)i <= best) {
        chosen = (vbp_isa)i;
        return;
    }
    fprintf(stderr, "vbpack: VBP_ISA=%s %s; using %s\n", want,
            i >= 0 ? "is not supported by this CPU" : "is not one of avx512, avx2, generic",
            vbp_cpu_isa_name(best));
}

vbp_isa vbp_cpu_isa(void)
{
    pthread_once(&chosen_once, choose);
    return chosen;
}

/*
 * cpu.h - the instruction set the library's kernels use (internal).
 *
 * One decision for the whole process, made at the first call: the best set the
 * CPU (and its OS) supports, or a lower one named by the environment variable
 * VBP_ISA=avx512|avx2|generic, so that every path can be tested and benchmarked
 * on one machine.  A value that is unknown or above what the CPU supports
 * prints one warning line on stderr and the best supported set is used (a
 * library does not exit).  Off x86-64 the answer is always generic.
 */
#ifndef VBP_CPU_H
#define VBP_CPU_H

typedef enum vbp_isa {
    VBP_ISA_GENERIC = 0, /* baseline of the target (SSE2 on x86-64, NEON on aarch64) */
    VBP_ISA_AVX2 = 1,    /* AVX2 + FMA */
    VBP_ISA_AVX512 = 2   /* AVX-512 F/BW/VL/DQ + FMA */
} vbp_isa;

/* The chosen set; thread-safe, the same value for the life of the process. */
vbp_isa vbp_cpu_isa(void);

/* "generic", "avx2" or "avx512". */
const char *vbp_cpu_isa_name(vbp_isa isa);

#endif

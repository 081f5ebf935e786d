/*
 * isa.h - compile-time parameters of one instantiation of the layer kernels (internal).
 *
 * src/meson.build compiles layers_conv.c, layers_norm.c, layers_pool.c and loss.c once per
 * instruction set, with -DVBP_ISA_<NAME> and that set's compiler flags (-mavx512f ... /
 * -mavx2 -mfma / none).  The functions get the suffix _f_<isa> or _d_<isa> (layers_tmpl.h)
 * and src/nn/dispatch.c picks one set at run time.  Per set:
 *   VBP_VBYTES            bytes of the explicit vectors: one machine register
 *   VBP_DW_SHIFT          1: the depthwise 3x3 kernels load each row once per register and
 *                         make the x-1, x+1 neighbours with lane shifts across two registers
 *                         (one instruction on AVX-512, valignd), for rows whose width is a
 *                         multiple of a register; 1.7-2.4x faster than loads at x-1 and x+1
 *                         on rows in cache on an AMD EPYC Zen 5.  0 (AVX2: the shift crosses
 *                         128-bit lanes, two instructions; no faster there): loads at x-1,
 *                         x, x+1
 *   VBP_DW_VBYTES         bytes of the vectors of the depthwise kernels' load path (other
 *                         widths, and every width without VBP_DW_SHIFT).  On AVX-512 half a
 *                         register: with 64 bytes (every load at x-1, x+1 crosses a cache
 *                         line) the depthwise forward took 1.5x and its backward 1.8x the time
 *                         of 32-byte vectors on an AMD EPYC Zen 5 (docs/performance.md)
 *   VBP_PW_NO x VBP_PW_NV pointwise-conv register tile: output channels x vectors of pixels
 *                         (NO*NV accumulators + NV inputs + 1 weight fit the register file)
 *   VBP_PW_TILE           pixels of every input channel per pointwise tile (a multiple of
 *                         NV vectors of floats and of doubles; the tile stays in L1/L2)
 *   VBP_WG_NO x VBP_WG_NI pointwise weight-gradient tile: output x input channels
 */
#ifndef VBP_ISA_H
#define VBP_ISA_H

#if defined(VBP_ISA_AVX512) /* 32 zmm registers */
#define VBP_ISA avx512
#define VBP_VBYTES 64
#define VBP_DW_SHIFT 1
#define VBP_DW_VBYTES 32
#define VBP_PW_NO 8
#define VBP_PW_NV 2
#define VBP_PW_TILE 128
#define VBP_WG_NO 4
#define VBP_WG_NI 4
#elif defined(VBP_ISA_AVX2) /* 16 ymm registers */
#define VBP_ISA avx2
#define VBP_VBYTES 32
#define VBP_PW_NO 4
#define VBP_PW_NV 3
#define VBP_PW_TILE 192
#define VBP_WG_NO 4
#define VBP_WG_NI 2
#else /* portable: 16-byte vectors (SSE2, NEON), 16 registers assumed */
#define VBP_ISA generic
#define VBP_VBYTES 16
#define VBP_PW_NO 4
#define VBP_PW_NV 3
#define VBP_PW_TILE 192
#define VBP_WG_NO 4
#define VBP_WG_NI 2
#endif
#ifndef VBP_DW_VBYTES
#define VBP_DW_VBYTES VBP_VBYTES
#endif
#ifndef VBP_DW_SHIFT
#define VBP_DW_SHIFT 0
#endif

/* Kernels whose every caller must run the same instructions (bit-identical results from
 * different call sites): neither inlined nor cloned (gcc's constant-propagation clones). */
#ifdef __clang__
#define VBP_SAME_CODE __attribute__((noinline))
#else
#define VBP_SAME_CODE __attribute__((noinline, noclone))
#endif

#define VBP_CAT_(a, b) a##b
#define VBP_CAT(a, b) VBP_CAT_(a, b)

#endif

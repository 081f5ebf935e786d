/*
 * layers_vec.h - the explicit vectors (GCC/clang extension) of the layer kernels (internal;
 * included inside the template pass of layers_tmpl.h, so `real` and FN() are those of the
 * pass, and once per pass: no include guard, the macros are redefined each time).
 *   VEC, VL, VLOAD, VSTORE      one register of the set (isa.h VBP_VBYTES): VL reals
 *   DVEC, DVL, DVLOAD, DVSTORE  the depthwise kernels' width (isa.h VBP_DW_VBYTES)
 *   VSHL, VSHR                  lane shifts by one across two registers (isa.h VBP_DW_SHIFT)
 *   DVZIP_LO, DVZIP_HI          the two halves of the interleaving of two depthwise vectors
 */
#undef VEC
#undef VL
#undef VLOAD
#undef VSTORE
#undef DVEC
#undef DVL
#undef DVLOAD
#undef DVSTORE
#undef VSHL
#undef VSHR
#undef VSH_N
#undef VSH_L
#undef VSH_R
#undef DVZIP_LO
#undef DVZIP_HI
#undef DZ_N
#undef DZ_LO
#undef DZ_HI
/* One register: VL floats or doubles. */
typedef real FN(vec) __attribute__((vector_size(VBP_VBYTES)));
/* The same vector at any address of a real (plain loads and stores, which the compiler keeps
 * in registers; memcpy into arrays of vectors was left as partial stack copies by gcc). */
typedef real FN(uvec) __attribute__((vector_size(VBP_VBYTES), aligned(sizeof(real)), may_alias));
#define VEC FN(vec)
#define VL (sizeof(VEC) / sizeof(real))
#define VLOAD(v, p) ((v) = *(const FN(uvec) *)(p))
#define VSTORE(p, v) (*(FN(uvec) *)(p) = (v))
/* The depthwise kernels' vectors: VBP_DW_VBYTES (isa.h), narrower than a register on AVX-512. */
typedef real FN(dvec) __attribute__((vector_size(VBP_DW_VBYTES)));
typedef real FN(duvec)
    __attribute__((vector_size(VBP_DW_VBYTES), aligned(sizeof(real)), may_alias));
#define DVEC FN(dvec)
#define DVL (sizeof(DVEC) / sizeof(real))
#define DVLOAD(v, p) ((v) = *(const FN(duvec) *)(p))
#define DVSTORE(p, v) (*(FN(duvec) *)(p) = (v))
/* DVZIP_LO(e, o) = {e[0], o[0], e[1], o[1], ...}: the first half of the interleaving of two
 * depthwise vectors; DVZIP_HI the second half. */
#if VBP_REAL_IS_FLOAT
#define DZ_N (VBP_DW_VBYTES / 4)
#else
#define DZ_N (VBP_DW_VBYTES / 8)
#endif
#if DZ_N == 8
#define DZ_LO 0, 8, 1, 9, 2, 10, 3, 11
#define DZ_HI 4, 12, 5, 13, 6, 14, 7, 15
#elif DZ_N == 4
#define DZ_LO 0, 4, 1, 5
#define DZ_HI 2, 6, 3, 7
#elif DZ_N == 2
#define DZ_LO 0, 2
#define DZ_HI 1, 3
#else
#error "DVZIP: unexpected vector length"
#endif
#define DVZIP_LO(e, o) __builtin_shufflevector((e), (o), DZ_LO)
#define DVZIP_HI(e, o) __builtin_shufflevector((e), (o), DZ_HI)
#if VBP_DW_SHIFT
/* VSHL(p, c) = {p[VL-1], c[0], ..., c[VL-2]}: the left neighbours of c's lanes, p the register
 * before c.  VSHR(c, n) = {c[1], ..., c[VL-1], n[0]}: the right neighbours, n the one after. */
#if VBP_REAL_IS_FLOAT
#define VSH_N (VBP_VBYTES / 4)
#else
#define VSH_N (VBP_VBYTES / 8)
#endif
#if VSH_N == 16
#define VSH_L 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
#define VSH_R 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
#elif VSH_N == 8
#define VSH_L 7, 8, 9, 10, 11, 12, 13, 14
#define VSH_R 1, 2, 3, 4, 5, 6, 7, 8
#elif VSH_N == 4
#define VSH_L 3, 4, 5, 6
#define VSH_R 1, 2, 3, 4
#else
#error "VBP_DW_SHIFT: unexpected vector length"
#endif
#define VSHL(p, c) __builtin_shufflevector((p), (c), VSH_L)
#define VSHR(c, n) __builtin_shufflevector((c), (n), VSH_R)
#endif

/*
 * layers_vec.h - the explicit vectors (GCC/clang extension) of the layer kernels (internal;
 * included inside the template pass of layers_tmpl.h, so `real` and FN() are those of the
 * pass, and once per pass: no include guard, the macros are redefined each time).
 *   VEC, VL, VLOAD, VSTORE      one register of the set (isa.h VBP_VBYTES): VL reals
 *   DVEC, DVL, DVLOAD, DVSTORE  the depthwise kernels' width (isa.h VBP_DW_VBYTES)
 */
#undef VEC
#undef VL
#undef VLOAD
#undef VSTORE
#undef DVEC
#undef DVL
#undef DVLOAD
#undef DVSTORE
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

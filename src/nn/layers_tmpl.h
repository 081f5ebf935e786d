/*
 * layers_tmpl.h - compile a layers_*.c body for float and for double.
 *
 * A layers_*.c file defines VBP_TMPL_FILE as its own name and includes this
 * header when VBP_TMPL_PASS is not yet defined; this header then includes the
 * file twice with `real` = float / FN(x) = x##_f_<isa> and real = double /
 * FN(x) = x##_d_<isa>, <isa> being the instruction set of this translation
 * unit (isa.h).  Only the part of the file under #ifdef VBP_TMPL_PASS is
 * compiled each time.  VBP_REAL_IS_FLOAT tells which pass it is (for the
 * few float-only fast paths, e.g. vector exp/log in loss.c).
 */
#include "isa.h"
#define VBP_TMPL_PASS 1
#ifdef __clang__
/* `omp simd` loops stay scalar when clang cannot vectorise them (sanitizer builds). */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
/* Prototypes of this set's functions: the definitions are checked against layers.h. */
#define VBP_TMPL_DECL(ret, name, params, args) ret FN(name) params;
#define real float
#define FN(name) VBP_CAT(name##_f_, VBP_ISA)
#define VBP_REAL_IS_FLOAT 1
VBP_LAYER_FUNCS(VBP_TMPL_DECL, float)
#include VBP_TMPL_FILE
#undef real
#undef FN
#undef VBP_REAL_IS_FLOAT
#define real double
#define FN(name) VBP_CAT(name##_d_, VBP_ISA)
#define VBP_REAL_IS_FLOAT 0
VBP_LAYER_FUNCS(VBP_TMPL_DECL, double)
#include VBP_TMPL_FILE
#undef real
#undef FN
#undef VBP_REAL_IS_FLOAT
#undef VBP_TMPL_DECL
#undef VBP_TMPL_PASS

/*
 * layers_tmpl.h - compile a layers_*.c body for float and for double.
 *
 * A layers_*.c file defines VBP_TMPL_FILE as its own name and includes this
 * header when VBP_TMPL_PASS is not yet defined; this header then includes the
 * file twice with `real` = float / FN(x) = x##_f and real = double /
 * FN(x) = x##_d.  Only the part of the file under #ifdef VBP_TMPL_PASS is
 * compiled each time.
 */
#define VBP_TMPL_PASS 1
#ifdef __clang__
/* `omp simd` loops stay scalar when clang cannot vectorise them (sanitizer builds). */
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
#define real float
#define FN(name) name##_f
#include VBP_TMPL_FILE
#undef real
#undef FN
#define real double
#define FN(name) name##_d
#include VBP_TMPL_FILE
#undef real
#undef FN
#undef VBP_TMPL_PASS

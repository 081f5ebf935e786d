/*
 * internal.h - helpers shared by the library's .c files; not installed.
 */
#ifndef VBP_INTERNAL_H
#define VBP_INTERNAL_H

#include <stdarg.h>
#include "vbp_error.h"
#include "vbp_util.h"

#if defined(__GNUC__)
#define VBP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VBP_PRINTF(a, b)
#endif

/*
 * Record `code` and a printf-style detail line in err (err may be NULL).
 * Returns code, so callers write `return vbp_fail(err, VBP_E_IO, "...")`.
 */
int vbp_fail(vbp_error *err, int code, const char *fmt, ...) VBP_PRINTF(3, 4);

/* Clear err (code VBP_OK, empty detail); err may be NULL. */
void vbp_error_clear(vbp_error *err);

/* Name tables indexed by enum value: names[v], or "?" when v >= count. */
const char *vbp_name_of(const char *const *names, unsigned count, unsigned v);
/* Index of s in names[0..count), or -1 (also when s is NULL). */
int vbp_name_find(const char *const *names, unsigned count, const char *s);

/* Eval forward of net in one pass per sep block (on, the default) or layer by layer (0: the
 * reference the tests compare the fused path with, bit for bit).  Training is unaffected. */
struct vbp_net;
void vbp_net_set_fused(struct vbp_net *net, int on);

#endif

/*
 * vbp_util.h - small helpers the library and its programs share: the clock,
 * the escaping of quoted bytes (every message that quotes a name or a cell
 * from a file goes through it) and a JSON writer (every JSON the project
 * prints or stores goes through it).
 */
#ifndef VBP_UTIL_H
#define VBP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds on the monotonic clock (for durations only). */
double vbp_now(void);

/*
 * Bytes from a file or a user (a tensor name, a CSV cell, a clip name), made
 * safe to quote in a message: len bytes of src are written to dst as text
 * with printable UTF-8 copied, `\` doubled and every other byte as `\xHH`
 * (lower-case hex): control bytes (ESC, 0x1f, DEL...), bytes that are not
 * well-formed UTF-8, and the invisible code points a terminal acts on (C1
 * controls, bidi overrides and isolates, zero-width characters, the BOM).
 * dst always ends in a NUL; text that does not fit in cap bytes is cut at a
 * whole character or escape and ends in "...".  Returns dst, for use as a
 * printf argument.  VBP_ESCAPED_MAX(len) bytes never cut.
 */
#define VBP_ESCAPED_MAX(len) (4 * (size_t)(len) + 1)
const char *vbp_escape(char *dst, size_t cap, const void *src, size_t len);

/*
 * Replace the file at path with len bytes, atomically: written to
 * "PATH.tmp.<pid>", fsync'ed, renamed onto path, directory fsync'ed (the one
 * scheme of every file the library writes).  VBP_E_IO naming the file; on
 * failure path is left as it was and the temporary file is removed.
 */
int vbp_atomic_write_file(const char *path, const void *data, size_t len, vbp_error *err);

/*
 * A JSON text built in memory: begin/end objects and arrays, keys and
 * values, commas and quoting done here.  Strings are escaped as JSON wants:
 * `"` and `\` with a backslash, bytes below 0x20 as \u00XX (never dropped);
 * other bytes are copied (UTF-8 passes through).  A non-finite double is
 * written as null.  Out of memory or nesting deeper than VBP_JSON_DEPTH sets
 * `failed`; later calls do nothing.
 */
#define VBP_JSON_DEPTH 16
typedef struct vbp_json {
    char *text;    /* NUL-terminated, malloc'd; NULL before the first call */
    size_t len, cap;
    int failed;
    int spaced;    /* ", " and ": " between items (for people), else compact */
    int depth;
    int after_key; /* a key was written, its value comes next */
    unsigned char has_item[VBP_JSON_DEPTH + 1];
} vbp_json;

void vbp_json_init(vbp_json *j, int spaced);
void vbp_json_free(vbp_json *j);
void vbp_json_begin_object(vbp_json *j);
void vbp_json_end_object(vbp_json *j);
void vbp_json_begin_array(vbp_json *j);
void vbp_json_end_array(vbp_json *j);
/* Inside an object: the key of the next value. */
void vbp_json_key(vbp_json *j, const char *key);
void vbp_json_string(vbp_json *j, const char *s);
void vbp_json_u64(vbp_json *j, uint64_t v);
void vbp_json_i64(vbp_json *j, int64_t v);
/* v with `digits` significant digits (%.*g); null when not finite. */
void vbp_json_double(vbp_json *j, double v, int digits);
void vbp_json_bool(vbp_json *j, int v);
void vbp_json_null(vbp_json *j);
/* Shorthands: key then value. */
void vbp_json_kstring(vbp_json *j, const char *key, const char *s);
void vbp_json_ku64(vbp_json *j, const char *key, uint64_t v);
void vbp_json_kdouble(vbp_json *j, const char *key, double v, int digits);
void vbp_json_kbool(vbp_json *j, const char *key, int v);
/* The text ("" when empty), or NULL when failed. */
const char *vbp_json_text(const vbp_json *j);
/* Write the text and a newline to f, then free j: 0, or -1 when failed or f fails. */
int vbp_json_print(vbp_json *j, FILE *f);

#ifdef __cplusplus
}
#endif
#endif

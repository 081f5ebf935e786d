/*
 * vbp_error.h - error codes shared by every vbpack API.
 *
 * Every fallible function returns an int: VBP_OK (0) on success or a negative
 * vbp_errcode.  Functions that can say more take an optional `vbp_error *`
 * (may be NULL) as their last argument and fill it with the code and one
 * human-readable line ("frame 12 of clip 'rally1': checksum mismatch").
 * Nothing is kept in globals: the detail lives in the caller's struct.
 */
#ifndef VBP_ERROR_H
#define VBP_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vbp_errcode {
    VBP_OK = 0,
    VBP_E_IO = -1,          /* open/read/write/mmap/fsync/rename failed (errno text in detail) */
    VBP_E_NOMEM = -2,       /* allocation failed */
    VBP_E_ARG = -3,         /* invalid argument from the caller */
    VBP_E_FORMAT = -4,      /* malformed pack: bad magic, bad offsets, inconsistent counts */
    VBP_E_CHECKSUM = -5,    /* stored XXH3-64 does not match the bytes */
    VBP_E_VERSION = -6,     /* pack written by a newer, incompatible major version */
    VBP_E_TRUNCATED = -7,   /* file shorter than its header says */
    VBP_E_EXISTS = -8,      /* target exists and overwriting was not asked for */
    VBP_E_INPUT = -9,       /* bad source data: corrupt PNG, bad CSV row, gap in frame numbers */
    VBP_E_GEOMETRY = -10,   /* sizes or channel counts disagree with what was asked */
    VBP_E_CODEC = -11,      /* unknown codec or a record that does not decode */
    VBP_E_NUMERIC = -12,    /* NaN or infinite value where a finite one is required */
    VBP_E_INTERRUPTED = -13, /* stopped by a signal or a callback */
    VBP_E_UNSUPPORTED = -14  /* the build lacks it (video input without FFmpeg) */
} vbp_errcode;

#define VBP_ERROR_DETAIL_MAX 512

typedef struct vbp_error {
    int code;                          /* a vbp_errcode */
    char detail[VBP_ERROR_DETAIL_MAX]; /* one line, no trailing newline; "" if none */
} vbp_error;

/* Static description of a code ("checksum mismatch"); never NULL. */
const char *vbp_strerror(int code);

/* The most specific text available: err->detail when set, else vbp_strerror(err->code). */
const char *vbp_error_message(const vbp_error *err);

#ifdef __cplusplus
}
#endif
#endif

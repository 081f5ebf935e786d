/* error.c - error codes to text, the detail-line helper, and enum name tables. */
#include <stdio.h>
#include <string.h>
#include "internal.h"

const char *vbp_strerror(int code)
{
    switch (code) {
    case VBP_OK: return "success";
    case VBP_E_IO: return "input/output error";
    case VBP_E_NOMEM: return "out of memory";
    case VBP_E_ARG: return "invalid argument";
    case VBP_E_FORMAT: return "malformed pack";
    case VBP_E_CHECKSUM: return "checksum mismatch";
    case VBP_E_VERSION: return "unsupported pack version";
    case VBP_E_TRUNCATED: return "file is truncated";
    case VBP_E_EXISTS: return "target exists (use --force to replace it)";
    case VBP_E_INPUT: return "bad input data";
    case VBP_E_GEOMETRY: return "geometry mismatch";
    case VBP_E_CODEC: return "record does not decode";
    case VBP_E_NUMERIC: return "non-finite value";
    case VBP_E_INTERRUPTED: return "interrupted";
    case VBP_E_UNSUPPORTED: return "not supported by this build";
    default: return "unknown error";
    }
}

const char *vbp_error_message(const vbp_error *err)
{
    if (!err)
        return "unknown error";
    return err->detail[0] ? err->detail : vbp_strerror(err->code);
}

int vbp_fail(vbp_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
        /* One line: a detail never carries a newline. */
        for (char *p = err->detail; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
    }
    return code;
}

void vbp_error_clear(vbp_error *err)
{
    if (err) {
        err->code = VBP_OK;
        err->detail[0] = '\0';
    }
}

const char *vbp_name_of(const char *const *names, unsigned count, unsigned v)
{
    return v < count ? names[v] : "?";
}

int vbp_name_find(const char *const *names, unsigned count, const char *s)
{
    for (unsigned i = 0; s && i < count; i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return -1;
}

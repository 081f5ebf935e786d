/*
 * escape.c - vbp_escape: bytes from a file made safe to quote in a message
 * (vbp_util.h).  Printable UTF-8 is copied; control bytes, bytes that are not
 * UTF-8 and the invisible code points a terminal acts on are written \xHH.
 */
#include <stdint.h>
#include <string.h>
#include "vbp_util.h"

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 (Unicode 15, table 3-7). */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Code points that print nothing but change what a terminal shows: C1 controls, bidi
 * overrides and isolates, zero-width and line/paragraph separators, the BOM. */
static int invisible(uint32_t u)
{
    return (u >= 0x80 && u <= 0x9f) || u == 0xad || u == 0x61c || (u >= 0x200b && u <= 0x200f) ||
           (u >= 0x2028 && u <= 0x202e) || (u >= 0x2060 && u <= 0x206f) || u == 0xfeff ||
           (u >= 0xfff9 && u <= 0xfffb);
}

static uint32_t code_point(const unsigned char *s, size_t len)
{
    uint32_t u = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++)
        u = u << 6 | (s[i] & 0x3f);
    return u;
}

const char *vbp_escape(char *dst, size_t cap, const void *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = src;
    size_t w = 0, i = 0, cut = 0; /* cut: the last end of a piece with room for "..." after it */
    if (cap == 0)
        return dst;
    while (i < len) {
        char piece[16];
        size_t n = 0, step = utf8_length(s + i, len - i);
        if (step && !invisible(code_point(s + i, step))) {
            memcpy(piece, s + i, step);
            n = step;
        } else if (!step && s[i] >= 0x20 && s[i] < 0x7f) {
            step = 1;
            if (s[i] == '\\')
                piece[n++] = '\\';
            piece[n++] = (char)s[i];
        } else {
            step = step ? step : 1;
            for (size_t k = 0; k < step; k++) {
                piece[n++] = '\\';
                piece[n++] = 'x';
                piece[n++] = hex[s[i + k] >> 4];
                piece[n++] = hex[s[i + k] & 15];
            }
        }
        if (w + n >= cap) { /* the rest does not fit: back to the last cut, then "..." */
            w = cut;
            if (w + 3 < cap) {
                memcpy(dst + w, "...", 3);
                w += 3;
            }
            break;
        }
        memcpy(dst + w, piece, n);
        w += n;
        i += step;
        if (w + 3 < cap)
            cut = w;
    }
    dst[w] = '\0';
    return dst;
}

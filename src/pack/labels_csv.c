/* labels_csv.c - strict reader of `Frame,Visibility,X,Y` label files. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "labels_csv.h"
#include "vbp_image.h"

/* Parse a decimal field ending at ',' or end of line.  *p advances past it. */
static int parse_number(const char **p, const char *end, double *out)
{
    const char *s = *p;
    const char *stop = s;
    while (stop < end && *stop != ',')
        stop++;
    if (stop == s || stop - s > 40)
        return -1;
    char tmp[48];
    memcpy(tmp, s, (size_t)(stop - s));
    tmp[stop - s] = '\0';
    char *e;
    errno = 0;
    double v = strtod(tmp, &e);
    if (*e != '\0' || errno == ERANGE || !isfinite(v) || tmp[0] == ' ' || tmp[0] == '\t')
        return -1;
    *out = v;
    *p = stop;
    return 0;
}

static int parse_row(const char *line, const char *end, size_t index, vbp_label *out,
                     const char **problem)
{
    static const char *const field[4] = {"Frame", "Visibility", "X", "Y"};
    double v[4];
    const char *p = line;
    for (int i = 0; i < 4; i++) {
        if (parse_number(&p, end, &v[i]) != 0) {
            *problem = field[i];
            return -1;
        }
        if (i < 3) {
            if (p == end || *p != ',') {
                *problem = "missing columns";
                return -2;
            }
            p++;
        }
    }
    if (p != end) {
        *problem = "extra columns";
        return -2;
    }
    if (v[0] != (double)index) {
        *problem = "Frame";
        return -3;
    }
    if (v[1] != 0.0 && v[1] != 1.0) {
        *problem = "Visibility";
        return -4;
    }
    if (fabs(v[2]) > FLT_MAX || fabs(v[3]) > FLT_MAX) {
        *problem = fabs(v[2]) > FLT_MAX ? "X" : "Y";
        return -5;
    }
    out->visibility = (uint8_t)v[1];
    out->x = out->visibility ? (float)v[2] : -1.0f;
    out->y = out->visibility ? (float)v[3] : -1.0f;
    return 0;
}

int vbp_labels_parse_csv(const uint8_t *buf, size_t size, const char *path, vbp_label **labels,
                         size_t *count, vbp_error *err)
{
    int rc = VBP_OK;
    const char *s = (const char *)buf, *end = s + size;
    vbp_label *out = NULL;
    size_t n = 0, ncap = 0, lineno = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (le > s && le[-1] == '\r')
            le--;
        lineno++;
        if (lineno == 1) {
            const char *h = "Frame,Visibility,X,Y";
            if ((size_t)(le - s) != strlen(h) || memcmp(s, h, strlen(h)) != 0) {
                rc = vbp_fail(err, VBP_E_INPUT, "%s:1: header must be 'Frame,Visibility,X,Y'",
                              path);
                goto out;
            }
            s = next;
            continue;
        }
        if (memchr(s, '\0', (size_t)(le - s))) {
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: NUL byte in the line", path, lineno);
            goto out;
        }
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 256;
            vbp_label *nb = realloc(out, ncap * sizeof *out);
            if (!nb) {
                rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
                goto out;
            }
            out = nb;
        }
        const char *what = NULL;
        int bad = parse_row(s, le, n, &out[n], &what);
        if (bad == -1)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: %s is not a number", path, lineno, what);
        else if (bad == -2)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: %s (expected 4: Frame,Visibility,X,Y)",
                          path, lineno, what);
        else if (bad == -3)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: Frame must be %zu (rows in frame order from 0)",
                          path, lineno, n);
        else if (bad == -4)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: Visibility must be 0 or 1", path, lineno);
        else if (bad == -5)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: %s does not fit a float", path, lineno, what);
        if (bad)
            goto out;
        n++;
        s = next;
    }
    if (lineno == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: empty file (expected header 'Frame,Visibility,X,Y')",
                      path);
out:
    if (rc != VBP_OK) {
        free(out);
        return rc;
    }
    *labels = out;
    *count = n;
    return VBP_OK;
}

int vbp_labels_read_csv(const char *path, vbp_label **labels, size_t *count, vbp_error *err)
{
    uint8_t *buf = NULL;
    size_t cap = 0, size = 0;
    int rc = vbp_file_read(path, &buf, &cap, &size, err);
    if (rc == VBP_OK)
        rc = vbp_labels_parse_csv(buf, size, path, labels, count, err);
    free(buf);
    return rc;
}

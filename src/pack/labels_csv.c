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

#define QUOTED_MAX 120

/* Parse the decimal field [s, stop): no blanks, finite as a double. */
static int parse_number(const char *s, const char *stop, double *out)
{
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
    return 0;
}

/* A row's problem: what is wrong, and the bytes at fault (a field, or the whole line). */
typedef struct row_problem {
    const char *what;
    const char *at;
    size_t len;
} row_problem;

static int parse_row(const char *line, const char *end, size_t index, vbp_label *out,
                     row_problem *pb)
{
    static const char *const field[4] = {"Frame", "Visibility", "X", "Y"};
    const char *fs[4], *fe[4];
    double v[4];
    const char *p = line;
    pb->at = line;
    pb->len = (size_t)(end - line);
    for (int i = 0; i < 4; i++) {
        fs[i] = p;
        while (p < end && *p != ',')
            p++;
        fe[i] = p;
        if (parse_number(fs[i], fe[i], &v[i]) != 0) {
            *pb = (row_problem){field[i], fs[i], (size_t)(fe[i] - fs[i])};
            return -1;
        }
        if (i < 3) {
            if (p == end) {
                pb->what = "missing columns";
                return -2;
            }
            p++;
        }
    }
    if (p != end) {
        pb->what = "extra columns";
        return -2;
    }
    int bad = v[0] != (double)index ? 0 : v[1] != 0.0 && v[1] != 1.0 ? 1
            : fabs(v[2]) > FLT_MAX ? 2 : fabs(v[3]) > FLT_MAX ? 3 : -1;
    if (bad >= 0) {
        *pb = (row_problem){field[bad], fs[bad], (size_t)(fe[bad] - fs[bad])};
        return bad == 0 ? -3 : bad == 1 ? -4 : -5;
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
    char q[QUOTED_MAX]; /* the bytes at fault, escaped: the file chose them */
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
                rc = vbp_fail(err, VBP_E_INPUT, "%s:1: header must be 'Frame,Visibility,X,Y': '%s'",
                              path, vbp_escape(q, sizeof q, s, (size_t)(le - s)));
                goto out;
            }
            s = next;
            continue;
        }
        if (memchr(s, '\0', (size_t)(le - s))) {
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: NUL byte in the line: '%s'", path, lineno,
                          vbp_escape(q, sizeof q, s, (size_t)(le - s)));
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
        row_problem pb;
        int bad = parse_row(s, le, n, &out[n], &pb);
        if (bad)
            vbp_escape(q, sizeof q, pb.at, pb.len);
        if (bad == -1)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: %s is not a number: '%s'", path, lineno,
                          pb.what, q);
        else if (bad == -2)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: %s (expected 4: Frame,Visibility,X,Y): '%s'",
                          path, lineno, pb.what, q);
        else if (bad == -3)
            rc = vbp_fail(err, VBP_E_INPUT,
                          "%s:%zu: Frame must be %zu (rows in frame order from 0): '%s'", path,
                          lineno, n, q);
        else if (bad == -4)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: Visibility must be 0 or 1: '%s'", path,
                          lineno, q);
        else if (bad == -5)
            rc = vbp_fail(err, VBP_E_INPUT, "%s:%zu: %s does not fit a float: '%s'", path, lineno,
                          pb.what, q);
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

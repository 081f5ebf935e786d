/*
 * plot.c - the learning curve of a run: metrics.jsonl -> an 800x500 PNG with
 * train/val loss (log scale) above and val F1 below, per epoch.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "draw.h"
#include "internal.h"
#include "train_internal.h"

/* Layout (documented in vbp_train.h; tests rely on it). */
enum {
    PW = VBP_PLOT_WIDTH, PH = VBP_PLOT_HEIGHT, X0 = VBP_PLOT_X0, X1 = VBP_PLOT_X1,
    LOSS_TOP = VBP_PLOT_LOSS_TOP, LOSS_BOT = VBP_PLOT_LOSS_BOTTOM,
    F1_TOP = VBP_PLOT_F1_TOP, F1_BOT = VBP_PLOT_F1_BOTTOM
};

static const vbp_rgb bg = { 255, 255, 255 }, ink = { 0, 0, 0 }, grid = { 225, 225, 225 };
static const vbp_rgb c_train = { VBP_PLOT_TRAIN_RGB }, c_val = { VBP_PLOT_VAL_RGB },
                     c_f1 = { VBP_PLOT_F1_RGB };

typedef struct point { double epoch, train, val, f1; } point; /* NAN: absent */

/* The number after "key": in [p, end), NAN for null; -1 when the key is missing or malformed. */
static int number_after(const char *p, const char *end, const char *key, double *out)
{
    const char *k = strstr(p, key);
    if (!k || k >= end)
        return -1;
    k += strlen(key);
    if (!strncmp(k, "null", 4)) {
        *out = NAN;
        return 0;
    }
    char *stop;
    errno = 0;
    *out = strtod(k, &stop);
    return stop == k || errno ? -1 : 0;
}

/* One metrics.jsonl line; -1 with *what set when it is not one. */
static int parse_line(const char *line, point *pt, const char **what)
{
    const char *end = line + strlen(line);
    *what = "not a JSON object";
    if (line[0] != '{')
        return -1;
    *what = "no \"epoch\" number";
    if (number_after(line, end, "\"epoch\":", &pt->epoch) || !(pt->epoch >= 1.0))
        return -1;
    *what = "no \"train_loss\"";
    if (number_after(line, end, "\"train_loss\":", &pt->train))
        return -1;
    *what = "no \"val\"";
    const char *val = strstr(line, "\"val\":");
    if (!val)
        return -1;
    pt->val = pt->f1 = NAN;
    if (strncmp(val + 6, "null", 4)) {
        const char *close = strchr(val, '}');
        *what = "\"val\" without \"loss\" and \"f1\"";
        if (!close || number_after(val, close, "\"loss\":", &pt->val) ||
            number_after(val, close, "\"f1\":", &pt->f1))
            return -1;
    }
    return 0;
}

static int read_points(const char *path, point **out, size_t *count, vbp_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open: %s", path, strerror(errno));
    point *pts = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    int rc = VBP_OK;
    while (getline(&line, &lcap, f) > 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            point *grown = realloc(pts, cap * sizeof *pts);
            if (!grown) {
                rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
                break;
            }
            pts = grown;
        }
        const char *what;
        if (parse_line(line, &pts[n], &what)) {
            rc = vbp_fail(err, VBP_E_FORMAT, "%s: line %zu is not a metrics line (%s)", path,
                          lineno, what);
            break;
        }
        n++;
    }
    free(line);
    fclose(f);
    if (!rc && !n)
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: no epochs to plot", path);
    if (rc) {
        free(pts);
        return rc;
    }
    *out = pts;
    *count = n;
    return VBP_OK;
}

static int64_t x_of(double epoch, double last)
{
    if (last <= 1.0)
        return (X0 + X1) / 2;
    return lround(X0 + (epoch - 1.0) * (X1 - X0) / (last - 1.0));
}

static double field_of(const point *p, int field)
{
    return field == 1 ? p->train : field == 2 ? p->val : p->f1;
}

/* One series: lines between consecutive present values, a dot on each. */
static void series(vbp_canvas *c, const point *p, size_t n, int field, double last, double lo,
                   double hi, int top, int bot, int log_scale, vbp_rgb col)
{
    int64_t px = 0, py = 0;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        double v = field_of(&p[i], field);
        if (!isfinite(v) || (log_scale && v <= 0.0)) {
            have = 0;
            continue;
        }
        double t = log_scale ? (log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
        t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
        int64_t x = x_of(p[i].epoch, last), y = lround(bot - t * (bot - top));
        if (have)
            vbp_draw_line(c, px, py, x, y, 2, col);
        vbp_draw_box(c, x - 2, y - 2, x + 2, y + 2, col);
        px = x;
        py = y;
        have = 1;
    }
}

static void axes(vbp_canvas *c, int top, int bot)
{
    vbp_draw_line(c, X0, top, X0, bot, 1, ink);
    vbp_draw_line(c, X0, bot, X1, bot, 1, ink);
}

int vbp_plot_metrics(const char *metrics_path, const char *png_path, vbp_error *err)
{
    point *p = NULL;
    size_t n = 0;
    int rc = read_points(metrics_path, &p, &n, err);
    if (rc)
        return rc;
    double last = 1.0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        last = p[i].epoch > last ? p[i].epoch : last;
        double v[2] = { p[i].train, p[i].val };
        for (int k = 0; k < 2; k++)
            if (isfinite(v[k]) && v[k] > 0.0) {
                lo = fmin(lo, floor(log10(v[k])));
                hi = fmax(hi, ceil(log10(v[k])));
            }
    }
    if (!isfinite(lo)) {
        lo = -3.0;
        hi = 0.0;
    }
    if (hi <= lo)
        hi = lo + 1.0;
    vbp_canvas c;
    rc = vbp_canvas_init(&c, PW, PH, bg, err);
    if (rc) {
        free(p);
        return rc;
    }
    char label[32];
    /* Grid and ticks: decades of the loss, quarters of F1, epochs. */
    for (double d = lo; d <= hi; d += 1.0) {
        int64_t y = lround(LOSS_BOT - (d - lo) / (hi - lo) * (LOSS_BOT - LOSS_TOP));
        vbp_draw_line(&c, X0 + 1, y, X1, y, 1, grid);
        vbp_draw_line(&c, X0 - 5, y, X0, y, 1, ink);
        snprintf(label, sizeof label, "1e%d", (int)d);
        vbp_draw_text(&c, X0 - 10 - 8 * (int64_t)strlen(label), y - 5, label, 2, ink);
    }
    for (int q = 0; q <= 4; q++) {
        int64_t y = lround(F1_BOT - q * 0.25 * (F1_BOT - F1_TOP));
        if (q)
            vbp_draw_line(&c, X0 + 1, y, X1, y, 1, grid);
        vbp_draw_line(&c, X0 - 5, y, X0, y, 1, ink);
        snprintf(label, sizeof label, "%.2g", q * 0.25);
        vbp_draw_text(&c, X0 - 10 - 8 * (int64_t)strlen(label), y - 5, label, 2, ink);
    }
    double step = last <= 10 ? 1 : last <= 50 ? 5 : last <= 100 ? 10 : ceil(last / 100) * 10;
    for (double e = 1; e <= last; e = e == 1 && step > 1 ? step : e + step) {
        int64_t x = x_of(e, last);
        vbp_draw_line(&c, x, LOSS_BOT, x, LOSS_BOT + 4, 1, ink);
        vbp_draw_line(&c, x, F1_BOT, x, F1_BOT + 4, 1, ink);
        snprintf(label, sizeof label, "%.0f", e);
        vbp_draw_text(&c, x - 4 * (int64_t)strlen(label) + 1, F1_BOT + 8, label, 2, ink);
    }
    axes(&c, LOSS_TOP, LOSS_BOT);
    axes(&c, F1_TOP, F1_BOT);
    vbp_draw_text(&c, X0 + 10, 8, "train loss", 2, c_train);
    vbp_draw_text(&c, X0 + 110, 8, "val loss", 2, c_val);
    vbp_draw_text(&c, X0 + 10, F1_TOP - 16, "val F1", 2, c_f1);
    vbp_draw_text(&c, (X0 + X1) / 2 - 20, F1_BOT + 22, "epoch", 2, ink);
    series(&c, p, n, 1, last, lo, hi, LOSS_TOP, LOSS_BOT, 1, c_train);
    series(&c, p, n, 2, last, lo, hi, LOSS_TOP, LOSS_BOT, 1, c_val);
    series(&c, p, n, 3, last, 0.0, 1.0, F1_TOP, F1_BOT, 0, c_f1);
    rc = vbp_canvas_write_png(&c, png_path, err);
    vbp_canvas_free(&c);
    free(p);
    return rc;
}

/* cli.c - progress bar and number parsing shared by the programs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "vbp_util.h"

void cli_bar_init(cli_bar *b, int enabled, const char *unit)
{
    b->on = enabled && isatty(STDERR_FILENO);
    b->drawn = 0;
    b->start = vbp_now();
    b->last = 0;
    b->unit = unit;
}

void cli_bar_draw(cli_bar *b, const char *label, uint64_t done, uint64_t total, const char *extra)
{
    if (!b->on)
        return;
    double t = vbp_now();
    if (done < total && t - b->last < 0.1)
        return;
    b->last = t;
    enum { WIDTH = 30 };
    int fill = total ? (int)(WIDTH * (done < total ? done : total) / total) : WIDTH;
    fprintf(stderr, "\r\033[K%s [%.*s%*s] %llu/%llu %s", label, fill,
            "##############################", WIDTH - fill, "", (unsigned long long)done,
            (unsigned long long)total, b->unit);
    double el = t - b->start;
    if (el >= 0.5 && done > 0) { /* a rate over less time says nothing */
        double rate = (double)done / el;
        fprintf(stderr, "  %.1f %s/s  ETA %.0fs", rate, b->unit,
                total > done ? (double)(total - done) / rate : 0.0);
    }
    if (extra)
        fprintf(stderr, "  %s", extra);
    fflush(stderr);
    b->drawn = 1;
}

void cli_bar_clear(cli_bar *b)
{
    if (b->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        b->drawn = 0;
    }
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

/*
 * cli.h - what every command-line program shares: the progress bar and
 * strict number parsing.  Not part of the library API.
 */
#ifndef VBP_CLI_H
#define VBP_CLI_H

#include <stdint.h>

typedef struct cli_bar {
    int on;           /* drawing: enabled by the caller and stderr is a terminal */
    int drawn;        /* a bar is on screen and must be erased before other output */
    double start, last;
    const char *unit; /* "frames", "steps" ... */
} cli_bar;

/* Prepare a bar; it draws only if `enabled` and stderr is a terminal. */
void cli_bar_init(cli_bar *b, int enabled, const char *unit);

/*
 * Draw "label [#####     ] done/total unit  rate unit/s  ETA Ns  extra" on
 * stderr, at most ten times a second and always when done == total.
 * `extra` may be NULL.
 */
void cli_bar_draw(cli_bar *b, const char *label, uint64_t done, uint64_t total, const char *extra);

/* Erase the bar so that an ordinary line can be printed. */
void cli_bar_clear(cli_bar *b);

/* Parse a whole decimal string as uint64 (no sign, no junk): 0, or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

#endif

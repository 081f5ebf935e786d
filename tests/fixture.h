/*
 * fixture.h - what every test needs around the code under test: a private
 * temporary directory (also as a cmocka group setup/teardown), whole-file
 * read/write, mkdir -p, and running a tool with its output captured.
 */
#ifndef VBP_FIXTURE_H
#define VBP_FIXTURE_H

#include <stddef.h>

/* mkdtemp directory under $TMPDIR (or /tmp), malloc'd; NULL on failure. */
char *fx_tmpdir(void);
/* Remove dir and everything below it, then free dir (NULL is fine). */
void fx_rmtree(char *dir);
/* Remove path and everything below it; 0 on success. */
int fx_rmtree_keep(const char *path);

/* cmocka group setup/teardown: fx_dir is a fresh tmpdir during the group. */
extern char *fx_dir;
int fx_group_setup(void **state);
int fx_group_teardown(void **state);

/* mkdir -p; write a file (or a string); path exists?  0 / -1, or 1 / 0 for fx_exists. */
int fx_mkdirs(const char *path);
int fx_write_file(const char *path, const void *buf, size_t size);
int fx_write_text(const char *path, const char *text);
int fx_exists(const char *path);
/* Entries in dir other than . and .., or -1 if dir cannot be opened. */
int fx_entries(const char *dir);

/* Whole file, malloc'd and NUL-terminated; *size (if not NULL) its length; NULL if unreadable. */
void *fx_read_all(const char *path, size_t *size);

/* Run argv (argv[0] a path) with stdout/stderr to files; returns the exit status or -1. */
int fx_run(char *const argv[], const char *out_path, const char *err_path);

/* max(m, x) that keeps a NaN once seen (fmax drops it, so an error bound would pass), for
 * running maxima; out of line: gcc 12 for aarch64 crashed vectorising fmax reductions. */
double fx_max_nan(double m, double x);

#endif

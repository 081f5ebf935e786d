/*
 * fuzz_common.h - shared by the libFuzzer targets: a check that aborts (so
 * libFuzzer records the input as a crash) when an invariant of an accepted
 * input does not hold, inputs put behind a path (a memfd), and the check that
 * an error message is safe to print.
 */
#ifndef VBP_FUZZ_COMMON_H
#define VBP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vbp_util.h"

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* The state files fuzz_seeds writes and fuzz_state reads: this net, this pack fingerprint. */
#define FUZZ_NET_CONFIG {3, 3, 16, 16, 1, 1, NULL} /* gray seq 3, as the shipped model */
#define FUZZ_FINGERPRINT 0x5eedf00d5eedf00dULL

/* The input as the file at the returned path (a memfd, rewritten for each input). */
static inline const char *fuzz_put(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz.input", MFD_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
    return path;
}

/*
 * A message is safe to print when vbp_escape leaves it as it is (but for doubling `\`): no
 * control byte, nothing that is not UTF-8, no invisible code point.  A detail cut at
 * VBP_ERROR_DETAIL_MAX may end inside a UTF-8 character: up to 3 such bytes are skipped.
 */
static inline int fuzz_message_ok(const char *s)
{
    const size_t full = strlen(s);
    size_t n = full;
    while (full == VBP_ERROR_DETAIL_MAX - 1 && full - n < 3 && (unsigned char)s[n - 1] >= 0x80)
        n--;
    char buf[4 * VBP_ERROR_DETAIL_MAX];
    const char *b = vbp_escape(buf, sizeof buf, s, n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && *b++ != '\\')
            return 0;
        if (*b++ != s[i])
            return 0;
    }
    return *b == '\0';
}

#endif

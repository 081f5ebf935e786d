/*
 * fuzz_common.h - shared by the libFuzzer targets: a check that aborts (so
 * libFuzzer records the input as a crash) when an invariant of an accepted
 * input does not hold.
 */
#ifndef VBP_FUZZ_COMMON_H
#define VBP_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif

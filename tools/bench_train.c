/* bench_train.c - vbbench train (not written yet). */
#include <stdio.h>
#include "bench.h"

int vbbench_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vbbench train: not implemented yet\n");
    return 2;
}

/* bench_loader.c - vbbench loader (not written yet). */
#include <stdio.h>
#include "bench.h"

int vbbench_loader(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vbbench loader: not implemented yet\n");
    return 2;
}

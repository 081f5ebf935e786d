/* bench_pack.c - vbbench pack (not written yet). */
#include <stdio.h>
#include "bench.h"

int vbbench_pack(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vbbench pack: not implemented yet\n");
    return 2;
}

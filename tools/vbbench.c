/*
 * vbbench - benchmarks, each measured side by side with its baseline in one run.
 *   vbbench pack    ROOT ...   packer throughput vs libpng decode rate
 *   vbbench loader  PACK ...   batch assembly vs uint8->float ceiling and PNG decoding
 *   vbbench train   ...        C trainer vs PyTorch
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "bench.h"

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage(FILE *f)
{
    fprintf(f, "usage: vbbench pack|loader|train [options]   (vbbench CMD --help for each)\n");
    return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout);
    if (!strcmp(argv[1], "pack"))
        return vbbench_pack(argc - 1, argv + 1);
    if (!strcmp(argv[1], "loader"))
        return vbbench_loader(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train"))
        return vbbench_train(argc - 1, argv + 1);
    fprintf(stderr, "vbbench: unknown benchmark '%s'\n", argv[1]);
    return usage(stderr);
}

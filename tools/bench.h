/* bench.h - the vbbench subcommands, one file each (bench_pack.c, ...). */
#ifndef VBP_BENCH_H
#define VBP_BENCH_H
int vbbench_pack(int argc, char **argv);
int vbbench_loader(int argc, char **argv);
int vbbench_train(int argc, char **argv);
/* CPU seconds of the whole process (all threads); wall time is vbp_now() (vbp_util.h). */
double bench_cpu(void);
#endif

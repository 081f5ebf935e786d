/* bench.h - the vbbench subcommands, one file each (bench_pack.c, ...). */
#ifndef VBP_BENCH_H
#define VBP_BENCH_H
#include <stddef.h>
int vbbench_pack(int argc, char **argv);
int vbbench_loader(int argc, char **argv);
int vbbench_train(int argc, char **argv);
/* Options of vbbench train (bench_train.c). */
typedef struct bench_train_args {
    unsigned batch, seq, threads, height, width, rounds;
    int rgb, torch, json, mpi;
    double seconds;
    const char *model; /* --model: an architecture name; NULL: VballNetFastV1 */
} bench_train_args;
struct vbp_dist;
/* vbbench train over the ranks of d (bench_mpi.c): --batch is the global batch. */
int bench_train_mpi(const bench_train_args *o, const struct vbp_dist *d);
/* A batch to time the network on: pixels of a fixed hash in x, a sparse pattern of ones in y
 * (which must be zeroed): the same for vbbench train and its MPI variant (bench_train.c). */
void bench_fake_batch(float *x, size_t nx, float *y, size_t ny);
/* CPU seconds of the whole process (all threads); wall time is vbp_now() (vbp_util.h). */
double bench_cpu(void);
#endif

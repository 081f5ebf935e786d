/*
 * vbp_dist.h - the processes of one data-parallel training run (MPI ranks).
 *
 * libvbpack never calls MPI: vbp_train_run takes a vbp_dist (cfg->dist), a
 * table of the two collective operations it needs, and trains alone when it
 * is NULL or has size 1.  vbp_dist_init, vbp_dist_finalize and
 * vbp_dist_abort are not in libvbpack: they are src/train/dist.c, linked
 * into vbtrain and vbbench only, which holds every MPI call of the project
 * (MPI_COMM_WORLD) when built with MPI (meson -Dmpi=auto|enabled) and is a
 * serial stub of one rank otherwise.  docs/training.md, "Training on a
 * cluster", says how a run is spread over ranks.
 */
#ifndef VBP_DIST_H
#define VBP_DIST_H

#include <stddef.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vbp_dist {
    int rank, size;  /* this process, 0..size-1; size >= 1 */
    void *ctx;       /* the implementation's */
    /*
     * Collective, in place: buf[i] becomes the sum over all ranks of their
     * buf[i], the same bits on every rank.  VBP_E_IO when the communication fails.
     */
    int (*allreduce_sum)(void *ctx, float *buf, size_t n, vbp_error *err);
    /* Collective: every rank's buf[0 .. bytes-1] becomes root's. */
    int (*bcast)(void *ctx, void *buf, size_t bytes, int root, vbp_error *err);
} vbp_dist;

/*
 * Detail of the error a rank returns when another rank failed (the failing
 * rank prints the cause): "another rank failed ...".  A program prints such
 * errors on rank 0 only.
 */
#define VBP_DIST_ECHO "another rank failed"

/*
 * Join the run: with MPI, when started by a launcher (mpirun sets
 * OMPI_COMM_WORLD_SIZE or PMIX_RANK), MPI_Init_thread (funneled: only the
 * calling thread communicates) and the world's rank and size; otherwise
 * (no launcher, or built without MPI) rank 0 of 1, without initialising
 * MPI.  VBP_E_IO when MPI cannot start.
 */
int vbp_dist_init(int *argc, char ***argv, vbp_dist *out, vbp_error *err);
/* Leave the run (MPI_Finalize when init started MPI).  Collective. */
void vbp_dist_finalize(vbp_dist *d);
/* End every rank of the run now with exit status code (MPI_Abort); exit(code) when alone. */
void vbp_dist_abort(vbp_dist *d, int code);
/* "mpi" when built with MPI, else "serial". */
const char *vbp_dist_backend(void);

#ifdef __cplusplus
}
#endif
#endif

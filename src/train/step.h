/*
 * step.h - one optimizer step of (data-parallel) training, and the few
 * agreements between ranks the training loop needs; not installed.
 *
 * A global batch of n samples is split into P = ranks x accumulate parts
 * (vbp_loader_part: part j = rank * accumulate + k).  Each part runs
 * forward, loss and backward on its own (BatchNorm normalises with the
 * part's statistics, as PyTorch DDP without SyncBatchNorm does); its
 * gradient, its BatchNorm running statistics (updated from the step's
 * starting ones) and its loss are weighted by its share n_j / n and summed
 * over the parts of a rank, then over ranks with one allreduce.  So every
 * rank gets the gradient of the mean loss over the global batch and the same
 * running statistics, takes the same Adam step and stays identical.  With
 * one rank and accumulate 1 the step is the plain one (no copy, no weights).
 * Running N ranks x K equals one process with accumulate N*K up to the
 * grouping of the sums: the parts of a rank are summed as a pairwise tree,
 * so the two agree bit for bit when the allreduce sums as a tree too
 * (N = 2 always; N = 4 with Open MPI's recursive doubling, measured).
 */
#ifndef VBP_STEP_H
#define VBP_STEP_H

#include "vbp_dist.h"
#include "vbp_loader.h"
#include "vbp_net.h"

typedef struct vbp_stepper {
    vbp_net *net;
    const vbp_dist *dist;    /* NULL: alone */
    uint32_t accumulate;     /* parts per rank, >= 1 */
    size_t nparams, nbuffers;
    float *flat;             /* nparams + nbuffers + 3: the one buffer reduced per step */
    float *bn0;              /* running statistics at the start of the step */
    float *cur, *sums;       /* one part's contribution; the partial sums of the parts (step.c) */
    uint64_t occupied;       /* levels of sums in use */
} vbp_stepper;

/* Largest part of a global batch of `batch`: what the net's arena must hold. */
uint32_t vbp_step_max_part(uint32_t batch, const vbp_dist *dist, uint32_t accumulate);

/* Bytes vbp_stepper_init allocates for net (an upper bound; 0 for the plain step). */
size_t vbp_stepper_bytes(const vbp_net *net, const vbp_dist *dist, uint32_t accumulate);

int vbp_stepper_init(vbp_stepper *s, vbp_net *net, const vbp_dist *dist, uint32_t accumulate,
                     vbp_error *err);
void vbp_stepper_free(vbp_stepper *s);

typedef struct vbp_step_io {
    const vbp_batch *batch;  /* in: this rank's slice (loader opened with part = rank, parts =
                                ranks); NULL when its loader failed with load_rc (err set) */
    int load_rc;
    float lr;
    int force_nan;           /* in: testing, this rank's loss is NaN */
    int stop;                /* in: this rank wants to stop after the step */
    float loss;              /* out: mean loss over the global batch */
    int any_stop;            /* out: some rank asked to stop */
} vbp_step_io;

/*
 * One step (collective).  Returns VBP_OK with io->loss; when that loss is
 * not finite no parameter changed (the caller stops).  A failure on this
 * rank returns its code (err set); a failure on another rank VBP_E_IO with
 * "another rank failed ..." (VBP_DIST_ECHO).
 */
int vbp_step_run(vbp_stepper *s, const vbp_adam_config *adam, vbp_step_io *io, vbp_error *err);

/*
 * Agree on a result (collective): every rank passes its rc; if any failed,
 * every rank fails: the failing ones with their own error, the others with
 * VBP_DIST_ECHO.  Alone: rc.
 */
int vbp_dist_agree(const vbp_dist *d, int rc, vbp_error *err);

/*
 * Rank 0's result for everyone (collective): rank 0 passes rc (and err) of
 * work only it did; the other ranks get rc and, on failure, VBP_DIST_ECHO.
 */
int vbp_dist_lead_rc(const vbp_dist *d, int rc, vbp_error *err);

/*
 * Check (collective) that every rank holds the network of rank 0 (parameters,
 * Adam moments, BN statistics: their hash).  A rank that differs fails with
 * VBP_E_NUMERIC naming itself, the others with VBP_DIST_ECHO: the steps are
 * meant to keep the ranks identical, so a difference is a fault worth stopping for.
 */
int vbp_dist_check_same(const vbp_dist *d, vbp_net *net, vbp_error *err);

/* Every rank takes rank 0's network: parameters, Adam moments, BN statistics, counters. */
int vbp_dist_bcast_net(const vbp_dist *d, vbp_net *net, vbp_error *err);

#endif

/*
 * loader_internal.h - the vbp_loader struct and the functions its files
 * share (loader.c open/close, loader_index.c windows and orders,
 * loader_batch.c assembly, loader_prefetch.c workers, memreport.c).
 */
#ifndef VBP_LOADER_INTERNAL_H
#define VBP_LOADER_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include "vbp_loader.h"

/* One prefetch slot: a batch's float buffers and where it came from. */
typedef struct vbp_slot {
    float *x, *y;
    vbp_sample *samples;
    int64_t batch;        /* batch index held, -1 when empty */
    int ready;            /* assembly finished (result in rc/err) */
    int rc;
    size_t n;             /* samples assembled: the slice opts.part of the batch */
    size_t total, first;  /* samples of the whole batch; position of the slice in it */
    vbp_error err;
} vbp_slot;

struct vbp_loader {
    vbp_pack *pack;
    int owns_pack;
    vbp_loader_opts opts;
    vbp_loader_shape shape;
    vbp_geometry geo;
    char note[1024];
    vbp_memlimit limit;       /* as read at open (opts.memory_limit 0) */
    uint64_t headroom;        /* what the process may use for the pack, the buffers and reserve */
    uint64_t own_bytes;       /* the buffers (vbp_loader_buffer_bytes) and opts.reserve_bytes */
    float target_lut[256];    /* heatmap value of each uint8 for VBP_TARGET_BINARY */
    int stream;               /* batches written with AVX2 streaming stores (loader_batch.c) */

    /* Sample index: with k = sel_of[s], sample s lies in pack clip
     * sel_clip[k] and its window starts at global frame
     * sel_first_frame[k] + (s - sel_first_sample[k]) * stride. */
    uint32_t *sel_of;         /* per sample: index into the selected-clip arrays */
    uint64_t nsel;            /* selected clips with at least one window */
    uint64_t *sel_clip;       /* pack clip index */
    uint64_t *sel_first_sample;
    uint64_t *sel_first_frame;/* global frame index of the clip's frame 0 */
    uint64_t sel_frames;      /* frames of the selected clips with a window */
    uint8_t *bg;              /* opts.background: per selected clip its background frame
                                 (C x H x W bytes), at bg + k * C*H*W */
    uint64_t locked_bytes;    /* mlocked by preload (munlocked at close) */
    uint8_t *scratch;         /* lz4 row of next() when threads = 0 */

    /* Current epoch. */
    uint64_t epoch;
    uint64_t *order;          /* samples served in this epoch, in order */
    uint64_t cursor;          /* next batch next() returns */
    double wait_seconds;

    /* Prefetch (threads > 0): slots hold batches cursor .. cursor+depth-1. */
    uint32_t depth;           /* batches assembled ahead */
    uint32_t nslots;          /* depth + 1 (the batch the caller holds) */
    vbp_slot *slots;
    pthread_t *workers;
    uint32_t nworkers;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;   /* workers: a batch may be assigned / stop */
    pthread_cond_t done_cv;   /* caller: a slot became ready / a worker went idle */
    uint64_t next_assign;     /* next batch a worker takes */
    uint32_t busy;            /* workers assembling right now */
    int paused, stopping;
};

/* loader_index.c */
int vbp_index_build(vbp_loader *ld, vbp_error *err);
void vbp_index_free(vbp_loader *ld);
/* Fill *out for sample s (< samples); flip = 0. */
void vbp_index_sample(const vbp_loader *ld, uint64_t s, vbp_sample *out);
/* Compute the order of `epoch` into out (samples entries). */
int vbp_index_order(const vbp_loader *ld, uint64_t epoch, uint64_t *out, vbp_error *err);

/* loader_batch.c: fill the slot with batch `b` of the current epoch (samples,
 * flips, x, y); *scratch is the thread's lz4 row, allocated on first need. */
int vbp_batch_fill(const vbp_loader *ld, uint64_t b, vbp_slot *slot, uint8_t **scratch,
                   vbp_error *err);
/* The bytes of frame f's record: *src in the mapping, or at *buf where an lz4 record is
 * decoded (a NULL *buf is allocated: one frame's bytes, the caller frees it); VBP_E_FORMAT,
 * VBP_E_CODEC, VBP_E_NOMEM. */
int vbp_loader_frame_bytes(const vbp_loader *ld, uint64_t f, uint8_t **buf, const uint8_t **src,
                           vbp_error *err);
/* Hint the kernel to read the records of batch b (disk mode); no-op otherwise. */
void vbp_batch_willneed(const vbp_loader *ld, uint64_t b);

/* loader_prefetch.c */
int vbp_prefetch_start(vbp_loader *ld, vbp_error *err);
void vbp_prefetch_stop(vbp_loader *ld);

/* memreport.c: facts about a mapping and the process. */
int vbp_memreport_measure(const void *map, size_t len, vbp_memreport *out, vbp_error *err);

#endif

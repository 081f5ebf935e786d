/*
 * loader_prefetch.c - serving batches: epochs, the prefetch workers and
 * vbp_loader_next.
 *
 * Batch b of an epoch always goes to slot b % nslots.  While the caller
 * holds batch cursor-1, workers may fill batches cursor .. cursor+depth-1
 * (depth = nslots - 1), whose slots are all different from the held one.
 * Workers take batch numbers in increasing order but may finish out of
 * order; next() waits for exactly the batch it must return, so the result
 * does not depend on the number of threads.  With threads = 0 there is one
 * slot and next() assembles into it itself.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "loader_internal.h"

static int may_assign(const vbp_loader *ld)
{
    return !ld->paused && ld->next_assign < ld->shape.batches &&
           ld->next_assign < ld->cursor + ld->depth;
}

static void *worker_main(void *arg)
{
    vbp_loader *ld = arg;
    uint8_t *scratch = NULL;
    pthread_mutex_lock(&ld->mu);
    for (;;) {
        while (!ld->stopping && !may_assign(ld))
            pthread_cond_wait(&ld->work_cv, &ld->mu);
        if (ld->stopping)
            break;
        uint64_t b = ld->next_assign++;
        vbp_slot *slot = &ld->slots[b % ld->nslots];
        slot->batch = (int64_t)b;
        slot->ready = 0;
        ld->busy++;
        pthread_mutex_unlock(&ld->mu);

        vbp_error_clear(&slot->err);
        int rc = vbp_batch_fill(ld, b, slot, &scratch, &slot->err);

        pthread_mutex_lock(&ld->mu);
        slot->rc = rc;
        slot->ready = 1;
        ld->busy--;
        pthread_cond_broadcast(&ld->done_cv);
    }
    pthread_mutex_unlock(&ld->mu);
    free(scratch);
    return NULL;
}

static void free_slots(vbp_loader *ld)
{
    if (!ld->slots)
        return;
    for (uint32_t i = 0; i < ld->nslots; i++) {
        free(ld->slots[i].x);
        free(ld->slots[i].y);
        free(ld->slots[i].samples);
    }
    free(ld->slots);
    ld->slots = NULL;
}

int vbp_prefetch_start(vbp_loader *ld, vbp_error *err)
{
    uint32_t threads = ld->opts.threads;
    ld->depth = threads ? (ld->opts.prefetch ? ld->opts.prefetch : 2) : 0;
    ld->nslots = ld->depth + 1;
    ld->slots = calloc(ld->nslots, sizeof *ld->slots);
    if (!ld->slots)
        return vbp_fail(err, VBP_E_NOMEM, "no memory for prefetch slots");
    size_t b = ld->shape.batch;
    for (uint32_t i = 0; i < ld->nslots; i++) {
        vbp_slot *s = &ld->slots[i];
        s->batch = -1;
        if (posix_memalign((void **)&s->x, 64, b * ld->shape.x_floats * sizeof(float)) ||
            posix_memalign((void **)&s->y, 64, b * ld->shape.y_floats * sizeof(float)) ||
            !(s->samples = calloc(b, sizeof *s->samples)))
            return vbp_fail(err, VBP_E_NOMEM, "no memory for %u batch buffers of %zu MiB",
                            ld->nslots,
                            b * (ld->shape.x_floats + ld->shape.y_floats) * sizeof(float) >> 20);
    }
    if (!threads)
        return VBP_OK;
    ld->workers = calloc(threads, sizeof *ld->workers);
    if (!ld->workers)
        return vbp_fail(err, VBP_E_NOMEM, "no memory for worker threads");
    for (uint32_t i = 0; i < threads; i++) {
        if (pthread_create(&ld->workers[i], NULL, worker_main, ld))
            return vbp_fail(err, VBP_E_NOMEM, "cannot start worker thread %u of %u", i + 1,
                            threads);
        ld->nworkers++;
    }
    return VBP_OK;
}

void vbp_prefetch_stop(vbp_loader *ld)
{
    pthread_mutex_lock(&ld->mu);
    ld->stopping = 1;
    pthread_cond_broadcast(&ld->work_cv);
    pthread_mutex_unlock(&ld->mu);
    for (uint32_t i = 0; i < ld->nworkers; i++)
        pthread_join(ld->workers[i], NULL);
    free(ld->workers);
    ld->workers = NULL;
    ld->nworkers = 0;
    free_slots(ld);
}

int vbp_loader_begin_epoch(vbp_loader *ld, uint64_t epoch, uint64_t start_batch, vbp_error *err)
{
    if (start_batch > ld->shape.batches)
        return vbp_fail(err, VBP_E_ARG, "batch %llu is past the end of the epoch (%llu batches)",
                        (unsigned long long)start_batch, (unsigned long long)ld->shape.batches);
    pthread_mutex_lock(&ld->mu);
    ld->paused = 1;
    while (ld->busy)
        pthread_cond_wait(&ld->done_cv, &ld->mu);
    int rc = vbp_index_order(ld, epoch, ld->order, err);
    if (!rc) {
        ld->epoch = epoch;
        ld->cursor = ld->next_assign = start_batch;
        for (uint32_t i = 0; i < ld->nslots; i++)
            ld->slots[i].batch = -1;
        ld->paused = 0;
        pthread_cond_broadcast(&ld->work_cv);
    }
    pthread_mutex_unlock(&ld->mu);
    for (uint64_t b = start_batch; !rc && b <= start_batch + ld->depth; b++)
        vbp_batch_willneed(ld, b);
    return rc;
}

int vbp_loader_next(vbp_loader *ld, vbp_batch *out, vbp_error *err)
{
    pthread_mutex_lock(&ld->mu);
    if (ld->paused || ld->cursor >= ld->shape.batches) {
        pthread_mutex_unlock(&ld->mu);
        return 0;
    }
    uint64_t b = ld->cursor;
    vbp_slot *slot = &ld->slots[b % ld->nslots];
    double t0 = vbp_now();
    if (!ld->nworkers) {
        pthread_mutex_unlock(&ld->mu);
        slot->batch = (int64_t)b;
        vbp_error_clear(&slot->err);
        slot->rc = vbp_batch_fill(ld, b, slot, &ld->scratch, &slot->err);
        slot->ready = 1;
        pthread_mutex_lock(&ld->mu);
    }
    while (!(slot->batch == (int64_t)b && slot->ready))
        pthread_cond_wait(&ld->done_cv, &ld->mu);
    ld->wait_seconds += vbp_now() - t0;
    ld->cursor = b + 1;
    pthread_cond_broadcast(&ld->work_cv);
    pthread_mutex_unlock(&ld->mu);

    vbp_batch_willneed(ld, b + ld->depth + 1);
    if (slot->rc) {
        if (err)
            *err = slot->err;
        return slot->rc;
    }
    out->epoch = ld->epoch;
    out->index = b;
    out->n = slot->n;
    out->batch_n = slot->total;
    out->first = slot->first;
    out->x = slot->x;
    out->y = slot->y;
    out->samples = slot->samples;
    return (int)slot->total;
}

double vbp_loader_wait_seconds(const vbp_loader *ld)
{
    return ld->wait_seconds;
}

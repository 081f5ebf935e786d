/*
 * step.c - one optimizer step over this rank's share of a global batch, its
 * parts weighted by their share and summed across ranks (step.h), and the
 * agreements between ranks of the training loop.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "internal.h"
#include "step.h"

/* Slots after the gradients and the running statistics in the reduced buffer. */
enum { SLOT_LOSS, SLOT_STOP, SLOT_FAILED, SLOTS };

static int ranks_of(const vbp_dist *d)
{
    return d && d->size > 1 ? d->size : 1;
}

/* Floats of one part's contribution: weighted gradients, running statistics and loss. */
static size_t part_floats(const vbp_stepper *s)
{
    return s->nparams + s->nbuffers + 1;
}

uint32_t vbp_step_max_part(uint32_t batch, const vbp_dist *dist, uint32_t accumulate)
{
    uint64_t parts = (uint64_t)ranks_of(dist) * (accumulate ? accumulate : 1);
    return (uint32_t)((batch + parts - 1) / parts);
}

/* Partial-sum levels for `accumulate` parts: a pairwise tree of at most 64 levels. */
static unsigned sum_levels(uint32_t accumulate)
{
    unsigned levels = 1;
    while (levels < 64 && (1ull << (levels - 1)) < accumulate)
        levels++;
    return levels;
}

size_t vbp_stepper_bytes(const vbp_net *net, const vbp_dist *dist, uint32_t accumulate)
{
    accumulate = accumulate ? accumulate : 1;
    if (ranks_of(dist) == 1 && accumulate == 1)
        return 0;
    size_t part = vbp_net_param_count(net) + vbp_net_buffer_count(net) + 1;
    return (part + SLOTS + part + (1 + sum_levels(accumulate)) * part) * sizeof(float);
}

int vbp_stepper_init(vbp_stepper *s, vbp_net *net, const vbp_dist *dist, uint32_t accumulate,
                     vbp_error *err)
{
    memset(s, 0, sizeof *s);
    s->net = net;
    s->dist = ranks_of(dist) > 1 ? dist : NULL;
    s->accumulate = accumulate ? accumulate : 1;
    s->nparams = vbp_net_param_count(net);
    s->nbuffers = vbp_net_buffer_count(net);
    if (!s->dist && s->accumulate == 1)
        return VBP_OK; /* the plain step needs nothing more */
    unsigned levels = sum_levels(s->accumulate);
    s->flat = malloc((s->nparams + s->nbuffers + SLOTS) * sizeof *s->flat);
    s->bn0 = malloc((s->nbuffers + 1) * sizeof *s->bn0);
    s->cur = malloc(part_floats(s) * sizeof *s->cur);
    s->sums = malloc(levels * part_floats(s) * sizeof *s->sums);
    if (!s->flat || !s->bn0 || !s->cur || !s->sums) {
        vbp_stepper_free(s);
        return vbp_fail(err, VBP_E_NOMEM, "no memory for the gradient exchange buffer");
    }
    return VBP_OK;
}

void vbp_stepper_free(vbp_stepper *s)
{
    free(s->flat);
    free(s->bn0);
    free(s->cur);
    free(s->sums);
    s->flat = s->bn0 = s->cur = s->sums = NULL;
}

/* The single-process step without parts: exactly the classic sequence. */
static int plain_step(vbp_stepper *s, const vbp_adam_config *adam, vbp_step_io *io, vbp_error *err)
{
    if (io->load_rc)
        return io->load_rc;
    const vbp_batch *b = io->batch;
    vbp_net_zero_grad(s->net);
    int rc = vbp_net_forward(s->net, b->x, b->n, 1, err);
    if (!rc)
        rc = vbp_net_loss(s->net, b->y, &io->loss, err);
    if (rc)
        return rc;
    if (io->force_nan)
        io->loss = NAN;
    if (!isfinite(io->loss))
        return VBP_OK;
    rc = vbp_net_backward(s->net, err);
    return rc ? rc : vbp_net_adam_step(s->net, adam, io->lr, err);
}

/*
 * Add the part in s->cur to the parts of this step so far, as a pairwise
 * tree in part order (a binary counter of partial sums: level l holds the
 * sum of 2^l consecutive parts): 4 parts sum as (p0+p1)+(p2+p3), the
 * grouping of 2 ranks x 2 parts, and of 4 ranks under a recursive-doubling
 * allreduce, so that those runs agree bit for bit.
 */
static void push_part(vbp_stepper *s)
{
    const size_t m = part_floats(s);
    float *cur = s->cur;
    unsigned level = 0;
    for (; s->occupied & (1ull << level); level++) {
        const float *prev = s->sums + level * m;
        for (size_t i = 0; i < m; i++)
            cur[i] = prev[i] + cur[i];
        s->occupied &= ~(1ull << level);
    }
    memcpy(s->sums + level * m, cur, m * sizeof *cur);
    s->occupied |= 1ull << level;
}

/* The sum of the step's parts into out (m floats): the earliest partial sum first. */
static void parts_total(vbp_stepper *s, float *out)
{
    const size_t m = part_floats(s);
    int first = 1;
    memset(out, 0, m * sizeof *out);
    for (int level = 63; level >= 0; level--) {
        if (!(s->occupied & (1ull << level)))
            continue;
        const float *sum = s->sums + (size_t)level * m;
        if (first)
            memcpy(out, sum, m * sizeof *out);
        else
            for (size_t i = 0; i < m; i++)
                out[i] = out[i] + sum[i];
        first = 0;
    }
}

/* dst[i] = w * src[i]: one rounding, as on any rank (no multiply-add into a sum). */
static void scale_into(float *restrict dst, const float *restrict src, size_t n, float w)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = w * src[i];
}

/*
 * One part of m samples at x, y, share w of the global batch: from the
 * step's starting running statistics, forward, loss, backward; its weighted
 * gradient, running statistics and loss pushed into the step's sum (an empty
 * part, m = 0, pushes zeros).
 */
static int part_step(vbp_stepper *s, const float *x, const float *y, size_t m, float w,
                     uint64_t tracked, int force_nan, vbp_error *err)
{
    vbp_net *net = s->net;
    float *cur = s->cur;
    if (!m) {
        memset(cur, 0, part_floats(s) * sizeof *cur);
        push_part(s);
        return VBP_OK;
    }
    memcpy(vbp_net_buffers(net), s->bn0, s->nbuffers * sizeof *s->bn0);
    vbp_net_set_batches_tracked(net, tracked);
    vbp_net_zero_grad(net);
    float loss;
    int rc = vbp_net_forward(net, x, m, 1, err);
    if (!rc)
        rc = vbp_net_loss(net, y, &loss, err);
    if (rc)
        return rc;
    if (force_nan)
        loss = NAN;
    if (!isfinite(loss)) { /* the step stops here: gradients do not matter */
        memset(cur, 0, (s->nparams + s->nbuffers) * sizeof *cur);
    } else {
        rc = vbp_net_backward(net, err);
        if (rc)
            return rc;
        scale_into(cur, vbp_net_grads(net), s->nparams, w);
        scale_into(cur + s->nparams, vbp_net_buffers(net), s->nbuffers, w);
    }
    cur[s->nparams + s->nbuffers] = w * loss;
    push_part(s);
    return VBP_OK;
}

int vbp_step_run(vbp_stepper *s, const vbp_adam_config *adam, vbp_step_io *io, vbp_error *err)
{
    io->loss = 0.0f;
    io->any_stop = io->stop;
    if (!s->flat)
        return plain_step(s, adam, io, err);
    vbp_net *net = s->net;
    const size_t np = s->nparams, nb = s->nbuffers, n = np + nb + SLOTS;
    float *flat = s->flat;
    s->occupied = 0;
    memcpy(s->bn0, vbp_net_buffers(net), nb * sizeof *s->bn0);
    const uint64_t tracked = vbp_net_batches_tracked(net);
    const int ranks = ranks_of(s->dist), rank = s->dist ? s->dist->rank : 0;
    const uint32_t parts = (uint32_t)ranks * s->accumulate;
    const vbp_net_config *nc = vbp_net_get_config(net);
    const size_t hw = (size_t)nc->height * nc->width;
    const vbp_batch *b = io->batch;
    int rc = io->load_rc;
    for (uint32_t k = 0; !rc && b && k < s->accumulate; k++) {
        size_t lo, hi;
        vbp_loader_part(b->batch_n, (uint32_t)rank * s->accumulate + k, parts, &lo, &hi);
        size_t at = lo - b->first;
        rc = part_step(s, b->x + at * nc->in_channels * hw, b->y + at * nc->out_channels * hw,
                       hi - lo, (float)(hi - lo) / (float)b->batch_n, tracked, io->force_nan, err);
    }
    parts_total(s, flat); /* gradients, statistics and loss: flat[0 .. np+nb+SLOT_LOSS] */
    flat[np + nb + SLOT_STOP] = io->stop ? 1.0f : 0.0f;
    flat[np + nb + SLOT_FAILED] = rc ? 1.0f : 0.0f;
    if (s->dist) {
        vbp_error cerr;
        int crc = s->dist->allreduce_sum(s->dist->ctx, flat, n, &cerr);
        if (crc) {
            if (!rc && err)
                *err = cerr;
            return rc ? rc : crc;
        }
    }
    io->any_stop = flat[np + nb + SLOT_STOP] > 0.0f;
    if (flat[np + nb + SLOT_FAILED] > 0.0f)
        return rc ? rc : vbp_fail(err, VBP_E_IO, VBP_DIST_ECHO " in this step (%.0f of %d ranks); "
                                  "its message says why", (double)flat[np + nb + SLOT_FAILED], ranks);
    io->loss = flat[np + nb + SLOT_LOSS];
    if (!isfinite(io->loss)) { /* nothing changes: the caller stops at the last checkpoint */
        memcpy(vbp_net_buffers(net), s->bn0, nb * sizeof *s->bn0);
        vbp_net_set_batches_tracked(net, tracked);
        return VBP_OK;
    }
    memcpy(vbp_net_grads(net), flat, np * sizeof *flat);
    memcpy(vbp_net_buffers(net), flat + np, nb * sizeof *flat);
    vbp_net_set_batches_tracked(net, tracked + 1);
    return vbp_net_adam_step(net, adam, io->lr, err);
}

int vbp_dist_agree(const vbp_dist *d, int rc, vbp_error *err)
{
    if (ranks_of(d) == 1)
        return rc;
    float failed = rc ? 1.0f : 0.0f;
    vbp_error cerr;
    int crc = d->allreduce_sum(d->ctx, &failed, 1, &cerr);
    if (rc)
        return rc;
    if (crc) {
        if (err)
            *err = cerr;
        return crc;
    }
    if (failed > 0.0f)
        return vbp_fail(err, VBP_E_IO, VBP_DIST_ECHO " (%.0f of %d ranks); its message says why",
                        (double)failed, d->size);
    return VBP_OK;
}

int vbp_dist_lead_rc(const vbp_dist *d, int rc, vbp_error *err)
{
    if (ranks_of(d) == 1)
        return rc;
    struct { int rc; vbp_error e; } msg;
    memset(&msg, 0, sizeof msg);
    msg.rc = rc;
    if (d->rank == 0 && rc && err)
        msg.e = *err;
    vbp_error cerr;
    int crc = d->bcast(d->ctx, &msg, sizeof msg, 0, &cerr);
    if (d->rank == 0)
        return rc;
    if (crc) {
        if (err)
            *err = cerr;
        return crc;
    }
    if (msg.rc)
        return vbp_fail(err, msg.rc, VBP_DIST_ECHO " (rank 0): %s", vbp_error_message(&msg.e));
    return VBP_OK;
}

int vbp_dist_bcast_net(const vbp_dist *d, vbp_net *net, vbp_error *err)
{
    if (ranks_of(d) == 1)
        return VBP_OK;
    const size_t np = vbp_net_param_count(net) * sizeof(float);
    uint64_t counters[2] = { vbp_net_adam_steps(net), vbp_net_batches_tracked(net) };
    int rc = d->bcast(d->ctx, vbp_net_params(net), np, 0, err);
    if (!rc)
        rc = d->bcast(d->ctx, vbp_net_adam_m(net), np, 0, err);
    if (!rc)
        rc = d->bcast(d->ctx, vbp_net_adam_v(net), np, 0, err);
    if (!rc)
        rc = d->bcast(d->ctx, vbp_net_buffers(net), vbp_net_buffer_count(net) * sizeof(float), 0, err);
    if (!rc)
        rc = d->bcast(d->ctx, counters, sizeof counters, 0, err);
    if (!rc) {
        vbp_net_set_adam_steps(net, counters[0]);
        vbp_net_set_batches_tracked(net, counters[1]);
    }
    return rc;
}

int vbp_dist_check_same(const vbp_dist *d, vbp_net *net, vbp_error *err)
{
    if (ranks_of(d) == 1)
        return VBP_OK;
    const size_t np = vbp_net_param_count(net) * sizeof(float);
    uint64_t h[2];
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return vbp_dist_agree(d, vbp_fail(err, VBP_E_NOMEM, "no memory for a hash state"), err);
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, vbp_net_params(net), np);
    XXH3_64bits_update(st, vbp_net_adam_m(net), np);
    XXH3_64bits_update(st, vbp_net_adam_v(net), np);
    XXH3_64bits_update(st, vbp_net_buffers(net), vbp_net_buffer_count(net) * sizeof(float));
    h[0] = h[1] = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    int rc = d->bcast(d->ctx, &h[1], sizeof h[1], 0, err);
    if (!rc && h[0] != h[1])
        rc = vbp_fail(err, VBP_E_NUMERIC, "rank %d: the network differs from rank 0's (the ranks' "
                      "sums were not the same bits)", d->rank);
    return vbp_dist_agree(d, rc, err);
}

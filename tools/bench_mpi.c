/*
 * bench_mpi.c - vbbench train over MPI ranks (`mpirun -np N vbbench train
 * --mpi ...`): data-parallel training steps as vbtrain takes them (each rank
 * forward, loss and backward on its share of the global batch, one
 * allreduce of the gradients and BatchNorm statistics, Adam), timed, with
 * the allreduce timed apart.  Rank 0 prints the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "vbp_dist.h"
#include "vbp_loader.h"
#include "vbp_net.h"
#include "vbp_util.h"

/* One step; *cpu, *wait and *comm get the CPU seconds of forward, loss and backward, the
 * seconds spent waiting for the other ranks and in the gradient allreduce.  flat[n-1]
 * carries rank 0's stop. */
static int mpi_step(vbp_net *net, const vbp_dist *d, const float *x, const float *y, size_t share,
                    float w, float *flat, size_t n, int stop, double *cpu, double *wait,
                    double *comm, vbp_error *err)
{
    const vbp_adam_config adam = { 0.9f, 0.999f, 1e-8f, 0.0f, 0 };
    const size_t np = vbp_net_param_count(net), nb = vbp_net_buffer_count(net);
    float loss = 0.0f;
    memset(flat, 0, n * sizeof *flat);
    const double c0 = bench_cpu();
    if (share) {
        vbp_net_zero_grad(net);
        int rc = vbp_net_forward(net, x, share, 1, err);
        rc = rc ? rc : vbp_net_loss(net, y, &loss, err);
        rc = rc ? rc : vbp_net_backward(net, err);
        if (rc)
            return rc;
        const float *g = vbp_net_grads(net), *b = vbp_net_buffers(net);
        for (size_t i = 0; i < np; i++)
            flat[i] = w * g[i];
        for (size_t i = 0; i < nb; i++)
            flat[np + i] = w * b[i];
        flat[np + nb] = w * loss;
    }
    *cpu += bench_cpu() - c0;
    flat[n - 1] = stop ? 1.0f : 0.0f;
    /* a one-float allreduce first: the ranks meet (waiting for the slowest is *wait), then the
     * gradient allreduce alone is timed (*comm) */
    float sync = 0.0f;
    double t0 = vbp_now();
    int rc = d->allreduce_sum(d->ctx, &sync, 1, err);
    const double t1 = vbp_now();
    rc = rc ? rc : d->allreduce_sum(d->ctx, flat, n, err);
    *wait += t1 - t0;
    *comm += vbp_now() - t1;
    if (rc)
        return rc;
    memcpy(vbp_net_grads(net), flat, np * sizeof *flat);
    memcpy(vbp_net_buffers(net), flat + np, nb * sizeof *flat);
    return vbp_net_adam_step(net, &adam, 1e-3f, err);
}

int bench_train_mpi(const bench_train_args *o, const vbp_dist *d)
{
    size_t lo, hi;
    vbp_loader_part(o->batch, (uint32_t)d->rank, (uint32_t)d->size, &lo, &hi);
    const size_t share = hi - lo;
    const unsigned cin = o->seq * (o->rgb ? 3 : 1);
    vbp_net_config cfg = { cin, o->seq, o->height, o->width, share ? (uint32_t)share : 1, o->threads,
                           o->model };
    vbp_net *net;
    vbp_error err;
    if (vbp_net_create(&cfg, 1, &net, &err)) {
        fprintf(stderr, "vbbench train: %s\n", vbp_error_message(&err));
        return 1;
    }
    const size_t nx = (share ? share : 1) * cin * o->height * o->width;
    const size_t ny = (share ? share : 1) * o->seq * o->height * o->width;
    const size_t n = vbp_net_param_count(net) + vbp_net_buffer_count(net) + 2;
    float *x = malloc(nx * sizeof *x), *y = calloc(ny, sizeof *y), *flat = malloc(n * sizeof *flat);
    if (!x || !y || !flat) {
        fprintf(stderr, "vbbench train: out of memory\n");
        return 1;
    }
    bench_fake_batch(x, nx, y, ny);
    const float w = (float)share / (float)o->batch;
    double comm = 0.0, wait = 0.0, cpu = 0.0, t0 = 0.0, comm0 = 0.0, wait0 = 0.0, cpu0 = 0.0;
    long steps = 0;
    int stop = 0, rc = 0;
    /* the first step is the warm-up; rank 0 says when the time is up (in the reduced buffer) */
    for (;;) {
        rc = mpi_step(net, d, x, y, share, w, flat, n, stop, &cpu, &wait, &comm, &err);
        if (rc || flat[n - 1] > 0.0f)
            break;
        if (steps++ == 0) {
            t0 = vbp_now();
            comm0 = comm;
            wait0 = wait;
            cpu0 = cpu;
        }
        stop = d->rank == 0 && steps >= 3 && vbp_now() - t0 >= o->seconds;
    }
    const double secs = vbp_now() - t0; /* steps after the warm-up, the stopping one included */
    steps = steps > 0 ? steps : 1;
    /* The allreduce alone, back to back (all ranks running): median of 101. */
    enum { REPS = 101 };
    double t[REPS];
    for (int i = 0; !rc && i < REPS; i++) {
        const double a = vbp_now();
        rc = d->allreduce_sum(d->ctx, flat, n, &err);
        t[i] = vbp_now() - a;
    }
    for (int i = 1; i < REPS; i++) /* insertion sort: 101 values */
        for (int k = i; k > 0 && t[k] < t[k - 1]; k--) {
            const double v = t[k];
            t[k] = t[k - 1], t[k - 1] = v;
        }
    const double cpu_ms = share ? 1e3 * (cpu - cpu0) / ((double)steps * (double)share) : 0.0;
    if (rc)
        fprintf(stderr, "vbbench train (rank %d): %s\n", d->rank, vbp_error_message(&err));
    else if (d->rank == 0) {
        const double step_ms = 1e3 * secs / (double)steps, comm_ms = 1e3 * (comm - comm0) / (double)steps;
        const double wait_ms = 1e3 * (wait - wait0) / (double)steps;
        const double bytes = (double)n * sizeof(float);
        if (o->json) {
            vbp_json j;
            vbp_json_init(&j, 0);
            vbp_json_begin_object(&j);
            vbp_json_kstring(&j, "backend", vbp_dist_backend());
            vbp_json_ku64(&j, "ranks", (uint64_t)d->size);
            vbp_json_ku64(&j, "batch", o->batch);
            vbp_json_ku64(&j, "threads_per_rank", o->threads);
            vbp_json_ku64(&j, "height", o->height);
            vbp_json_ku64(&j, "width", o->width);
            vbp_json_ku64(&j, "steps", (uint64_t)steps);
            vbp_json_kdouble(&j, "train_sps", (double)steps * o->batch / secs, 6);
            vbp_json_kdouble(&j, "step_ms", step_ms, 6);
            vbp_json_kdouble(&j, "wait_ms", wait_ms, 6);
            vbp_json_kdouble(&j, "allreduce_ms", comm_ms, 6);
            vbp_json_kdouble(&j, "allreduce_alone_us", 1e6 * t[REPS / 2], 6);
            vbp_json_kdouble(&j, "compute_cpu_ms_per_sample", cpu_ms, 6);
            vbp_json_ku64(&j, "allreduce_bytes", (uint64_t)bytes);
            vbp_json_end_object(&j);
            vbp_json_print(&j, stdout);
        } else {
            printf("VballNetFastV1 data-parallel (%s): %d rank(s) x %u thread(s), global batch %u, "
                   "%ux%u, %s\n", vbp_dist_backend(), d->size, o->threads, o->batch, o->width,
                   o->height, vbp_net_isa_name());
            printf("train %.2f samples/s, step %.2f ms, of which waiting for the slowest rank "
                   "%.3f ms and the allreduce %.3f ms (%.0f bytes: %zu params + BN statistics), "
                   "%ld steps\n", (double)steps * o->batch / secs, step_ms, wait_ms, comm_ms,
                   bytes, vbp_net_param_count(net), steps);
            printf("compute (forward, loss, backward) %.2f CPU ms per sample on rank 0; the "
                   "allreduce alone, back to back: %.1f us (median of %d)\n", cpu_ms,
                   1e6 * t[REPS / 2], REPS);
        }
    }
    vbp_net_free(net);
    free(x), free(y), free(flat);
    return rc ? 1 : 0;
}

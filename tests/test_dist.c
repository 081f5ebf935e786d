/*
 * test_dist.c - data-parallel training without MPI: the batch slices of
 * the loader (vbp_loader_part, opts.part/parts), the serial vbp_dist stub,
 * and vbp_train_run on two "ranks" that are threads of this process joined
 * by an in-memory vbp_dist, against one process with --accumulate 2
 * (docs/training.md, "Training on a cluster").  tests/mpi/mpi_train.sh does
 * the same over real MPI ranks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fixture.h"
#include "vbp_dist.h"
#include "vbp_train.h"

#define TW 32u
#define TH 16u

static char g_pack[512];

/* 3 train clips (9, 8, 7 frames) and a val clip of 6: a ball on noise. */
static int write_pack(const char *path)
{
    static const uint32_t frames[4] = { 9, 8, 7, 6 };
    vbp_writer_opts o = { { TH, TW, 1, 1 }, VBP_CODEC_RAW, 1 };
    vbp_writer *w;
    if (vbp_writer_open(path, &o, &w, NULL))
        return -1;
    static uint8_t frame[TH * TW], heat[TH * TW];
    uint32_t noise = 12345;
    for (uint32_t c = 0; c < 4; c++) {
        char name[8];
        snprintf(name, sizeof name, "c%u", c);
        if (vbp_writer_begin_clip(w, name, "", c == 3 ? VBP_SPLIT_VAL : VBP_SPLIT_TRAIN, NULL))
            return -1;
        for (int pass = 0; pass < 2; pass++)
            for (uint32_t i = 0; i < frames[c]; i++) {
                uint32_t bx = 3 + (i * 3 + c * 5) % 26, by = 2 + (i * 2 + c) % 12;
                vbp_label lab = { 1, (float)bx, (float)by };
                for (uint32_t y = 0; y < TH; y++)
                    for (uint32_t x = 0; x < TW; x++) {
                        int in = (x - bx) * (x - bx) + (y - by) * (y - by) <= 4;
                        noise = noise * 1103515245u + 12345u;
                        frame[y * TW + x] = in ? 230 : (uint8_t)(40 + (noise >> 16) % 40);
                        heat[y * TW + x] = in ? 255 : 0;
                    }
                if (pass == 0 ? vbp_writer_add_frame(w, frame, &lab, NULL)
                              : vbp_writer_add_heatmap(w, heat, NULL))
                    return -1;
            }
        if (vbp_writer_end_clip(w, NULL))
            return -1;
    }
    return vbp_writer_finish(w, NULL) ? -1 : 0;
}

static int setup(void **state)
{
    if (fx_group_setup(state))
        return -1;
    snprintf(g_pack, sizeof g_pack, "%s/p.vbp", fx_dir);
    return write_pack(g_pack);
}

/* Slices cover a batch in order, differ by at most one, and nest (part p*K+k of P*K in p of P). */
static void test_part(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 23; n++)
        for (uint32_t parts = 1; parts <= 6; parts++) {
            size_t at = 0, lo, hi, min = n, max = 0;
            for (uint32_t p = 0; p < parts; p++) {
                vbp_loader_part(n, p, parts, &lo, &hi);
                assert_int_equal(lo, at);
                at = hi;
                min = hi - lo < min ? hi - lo : min;
                max = hi - lo > max ? hi - lo : max;
                for (uint32_t k = 0; k < 3; k++) {
                    size_t a, b;
                    vbp_loader_part(n, p * 3 + k, parts * 3, &a, &b);
                    assert_true(a >= lo && b <= hi);
                }
            }
            assert_int_equal(at, n);
            assert_true(max - min <= 1);
        }
}

/* The slices of every rank, with flips and augmentations on, make up the whole batch exactly. */
static void test_loader_slices(void **state)
{
    (void)state;
    enum { PARTS = 3 };
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.batch = 5;
    o.seed = 9;
    o.flip_prob = 0.5f;
    o.brightness = 0.2f;
    o.contrast = 0.2f;
    o.shift = 2;
    vbp_error err;
    vbp_loader *whole, *part[PARTS];
    assert_int_equal(vbp_loader_open_path(g_pack, &o, &whole, &err), VBP_OK);
    for (uint32_t p = 0; p < PARTS; p++) {
        o.part = p;
        o.parts = PARTS;
        o.threads = p % 2; /* assembled ahead or in next(): the same batches */
        assert_int_equal(vbp_loader_open_path(g_pack, &o, &part[p], &err), VBP_OK);
    }
    o.part = PARTS;
    vbp_loader *bad;
    assert_int_equal(vbp_loader_open_path(g_pack, &o, &bad, &err), VBP_E_ARG);
    const vbp_loader_shape *sh = vbp_loader_get_shape(whole);
    for (uint64_t epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(vbp_loader_begin_epoch(whole, epoch, 0, &err), VBP_OK);
        for (uint32_t p = 0; p < PARTS; p++)
            assert_int_equal(vbp_loader_begin_epoch(part[p], epoch, 0, &err), VBP_OK);
        vbp_batch b, s;
        int n, batches = 0;
        while ((n = vbp_loader_next(whole, &b, &err)) > 0) {
            batches++;
            assert_int_equal((size_t)n, b.n);
            size_t at = 0;
            for (uint32_t p = 0; p < PARTS; p++) {
                assert_int_equal(vbp_loader_next(part[p], &s, &err), n);
                assert_int_equal(s.batch_n, b.n);
                assert_int_equal(s.first, at);
                assert_memory_equal(s.x, b.x + at * sh->x_floats, s.n * sh->x_floats * sizeof(float));
                assert_memory_equal(s.y, b.y + at * sh->y_floats, s.n * sh->y_floats * sizeof(float));
                for (size_t i = 0; i < s.n; i++) {
                    assert_int_equal(s.samples[i].sample, b.samples[at + i].sample);
                    assert_int_equal(s.samples[i].flip, b.samples[at + i].flip);
                }
                at += s.n;
            }
            assert_int_equal(at, b.n);
        }
        assert_int_equal(n, 0);
        assert_int_equal(batches, (int)sh->batches);
        for (uint32_t p = 0; p < PARTS; p++)
            assert_int_equal(vbp_loader_next(part[p], &b, &err), 0);
    }
    for (uint32_t p = 0; p < PARTS; p++)
        vbp_loader_close(part[p]);
    vbp_loader_close(whole);
}

/* Without a launcher (or without MPI) a program is rank 0 of 1. */
static void test_serial_stub(void **state)
{
    (void)state;
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("PMIX_RANK");
    unsetenv("PMI_SIZE");
    vbp_dist d;
    vbp_error err;
    assert_int_equal(vbp_dist_init(NULL, NULL, &d, &err), VBP_OK);
    assert_int_equal(d.rank, 0);
    assert_int_equal(d.size, 1);
    float v[2] = { 1.5f, -2.0f };
    assert_int_equal(d.allreduce_sum(d.ctx, v, 2, &err), VBP_OK);
    assert_true(v[0] == 1.5f && v[1] == -2.0f);
    assert_true(!strcmp(vbp_dist_backend(), "mpi") || !strcmp(vbp_dist_backend(), "serial"));
    vbp_dist_finalize(&d);
}

/* ------------------------------------------- two ranks as threads of this process */

#define RANKS 2
static int g_skew; /* testing the check: rank 1's sums are off by one ulp in one float */
typedef struct shared {
    pthread_barrier_t bar;
    void *slot[RANKS];
} shared;
typedef struct rank_ctx {
    shared *sh;
    int rank;
} rank_ctx;

/* Sum in rank order into a private copy, then everyone takes it: the same bits on every rank. */
static int thread_allreduce(void *ctx, float *buf, size_t n, vbp_error *err)
{
    rank_ctx *c = ctx;
    (void)err;
    float *sum = malloc(n * sizeof *sum);
    assert_non_null(sum);
    c->sh->slot[c->rank] = buf;
    pthread_barrier_wait(&c->sh->bar);
    for (size_t i = 0; i < n; i++) {
        float s = ((float *)c->sh->slot[0])[i];
        for (int r = 1; r < RANKS; r++)
            s += ((float *)c->sh->slot[r])[i];
        sum[i] = s;
    }
    pthread_barrier_wait(&c->sh->bar);
    if (g_skew && c->rank == 1 && n > 16) /* the step's buffer, not the agreements */
        sum[0] = nextafterf(sum[0], INFINITY);
    memcpy(buf, sum, n * sizeof *sum);
    free(sum);
    pthread_barrier_wait(&c->sh->bar);
    return VBP_OK;
}

static int thread_bcast(void *ctx, void *buf, size_t bytes, int root, vbp_error *err)
{
    (void)err;
    rank_ctx *c = ctx;
    c->sh->slot[c->rank] = buf;
    pthread_barrier_wait(&c->sh->bar);
    if (c->rank != root)
        memcpy(buf, c->sh->slot[root], bytes);
    pthread_barrier_wait(&c->sh->bar);
    return VBP_OK;
}

typedef struct job {
    vbp_train_config cfg;
    vbp_dist dist;
    rank_ctx ctx;
    const char *dir;
    int rc;
    vbp_error err;
} job;

static void *rank_main(void *arg)
{
    job *j = arg;
    j->rc = vbp_train_run(g_pack, j->dir, &j->cfg, NULL, NULL, &j->err);
    return NULL;
}

static void config(vbp_train_config *c)
{
    vbp_train_config_default(c);
    c->batch = 4;
    c->epochs = 2;
    c->lr = 3e-3f;
    c->seed = 5;
    c->threads = 1;
    c->flip = 0.5f;
    c->shift = 1;
}

/* 2 ranks x --accumulate 2 (4 parts of a batch of 4, the last batch of 3 leaving a part empty)
 * against 1 process x 4; 2 ranks against 1 process x 2; and both differ from the plain batch. */
static void run_ranks_rc(const char *dir, uint32_t accumulate, int resume, int rc[RANKS],
                         vbp_error errs[RANKS])
{
    shared sh;
    pthread_barrier_init(&sh.bar, NULL, RANKS);
    job jobs[RANKS];
    pthread_t t[RANKS];
    for (int r = 0; r < RANKS; r++) {
        job *j = &jobs[r];
        config(&j->cfg);
        j->cfg.accumulate = accumulate;
        j->cfg.resume = resume;
        j->ctx = (rank_ctx){ &sh, r };
        j->dist = (vbp_dist){ r, RANKS, &j->ctx, thread_allreduce, thread_bcast };
        j->cfg.dist = &j->dist;
        j->dir = dir;
        assert_int_equal(pthread_create(&t[r], NULL, rank_main, j), 0);
    }
    for (int r = 0; r < RANKS; r++)
        pthread_join(t[r], NULL);
    pthread_barrier_destroy(&sh.bar);
    for (int r = 0; r < RANKS; r++) {
        rc[r] = jobs[r].rc;
        errs[r] = jobs[r].err;
    }
}

static void run_ranks(const char *dir, uint32_t accumulate, int resume)
{
    int rc[RANKS];
    vbp_error errs[RANKS];
    run_ranks_rc(dir, accumulate, resume, rc, errs);
    for (int r = 0; r < RANKS; r++)
        if (rc[r])
            fail_msg("rank %d: %s", r, vbp_error_message(&errs[r]));
}

static void run_alone(const char *dir, uint32_t accumulate)
{
    vbp_train_config c;
    config(&c);
    c.accumulate = accumulate;
    vbp_error err;
    if (vbp_train_run(g_pack, dir, &c, NULL, NULL, &err))
        fail_msg("%s", vbp_error_message(&err));
}

static int same_file(const char *dir_a, const char *dir_b, const char *name)
{
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/%s", dir_a, name);
    snprintf(b, sizeof b, "%s/%s", dir_b, name);
    size_t na, nb;
    char *x = fx_read_all(a, &na), *y = fx_read_all(b, &nb);
    assert_non_null(x);
    assert_non_null(y);
    int same = na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static void test_ranks_equal_accumulation(void **state)
{
    (void)state;
    char d[6][512];
    const char *names[6] = { "r2", "a2", "r2k2", "a4", "plain", "r2res" };
    for (int i = 0; i < 6; i++)
        snprintf(d[i], sizeof d[i], "%s/%s", fx_dir, names[i]);
    run_ranks(d[0], 1, 0);
    run_alone(d[1], 2);
    assert_true(same_file(d[0], d[1], "last.safetensors"));
    assert_true(same_file(d[0], d[1], "last.state"));
    run_ranks(d[2], 2, 0);
    run_alone(d[3], 4);
    /* 4 parts summed as (0+1)+(2+3) both ways: the pairwise tree of step.c (bit for bit) */
    assert_true(same_file(d[2], d[3], "last.safetensors"));
    run_alone(d[4], 1);
    assert_false(same_file(d[0], d[4], "last.safetensors")); /* BatchNorm over 2, not 4 */
    /* 2 ranks resume a 1-process run that stopped mid-epoch, and end where it would have. */
    vbp_train_config c;
    config(&c);
    c.accumulate = 2;
    c.stop_after = 5;
    vbp_error err;
    assert_int_equal(vbp_train_run(g_pack, d[5], &c, NULL, NULL, &err), VBP_OK);
    run_ranks(d[5], 1, 1);
    assert_true(same_file(d[5], d[1], "last.safetensors"));
}

/* Ranks that stop agreeing bit for bit are stopped at the epoch's end, not silently resynced. */
static void test_divergence_detected(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/skew", fx_dir);
    int rc[RANKS];
    vbp_error errs[RANKS];
    g_skew = 1;
    run_ranks_rc(dir, 1, 0, rc, errs);
    g_skew = 0;
    assert_int_equal(rc[1], VBP_E_NUMERIC);
    assert_non_null(strstr(vbp_error_message(&errs[1]), "differs from rank 0"));
    assert_int_equal(rc[0], VBP_E_IO);
    assert_non_null(strstr(vbp_error_message(&errs[0]), VBP_DIST_ECHO));
}

/* Every part needs a sample; an error on rank 0 alone (no state to resume) fails both ranks. */
static void test_errors(void **state)
{
    (void)state;
    vbp_train_config c;
    config(&c);
    c.batch = 3;
    c.accumulate = 4;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/small", fx_dir);
    vbp_error err;
    assert_int_equal(vbp_train_run(g_pack, dir, &c, NULL, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(vbp_error_message(&err), "accumulate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part),
        cmocka_unit_test(test_loader_slices),
        cmocka_unit_test(test_serial_stub),
        cmocka_unit_test(test_ranks_equal_accumulation),
        cmocka_unit_test(test_divergence_detected),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, fx_group_teardown);
}

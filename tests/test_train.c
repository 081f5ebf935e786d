/*
 * test_train.c - the training loop on a tiny pack (32x16 gray, a handful of
 * clips): exact resumption at an epoch end and mid-epoch, configuration and
 * pack checks on --resume, the NaN stop, evaluation and prediction CSVs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "png_test_read.h"
#include "train_internal.h"
#include "vbp_safetensors.h"
#include "vbp_train.h"

#define TW 32u
#define TH 16u

typedef struct tclip { const char *name, *group; vbp_split split; uint32_t frames; } tclip;
static const tclip clips[] = {
    { "a", "", VBP_SPLIT_TRAIN, 9 },  { "b", "", VBP_SPLIT_TRAIN, 7 },
    { "c", "m1", VBP_SPLIT_TRAIN, 6 }, { "v", "m2", VBP_SPLIT_VAL, 6 },
    { "tiny", "", VBP_SPLIT_VAL, 2 },
};
#define NCLIPS (sizeof clips / sizeof *clips)

static char g_dir[256];
static char g_pack[300], g_pack2[300], g_pack_rgb[300];

static uint32_t hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    return x ^ (x >> 16);
}

/* A ball of radius 2 on noise; hidden every fifth frame.  `salt` changes the noise; RGB
 * (ch 3) planes are the gray one shifted by 0, 9 and 18. */
static int write_pack(const char *path, uint32_t salt, uint32_t ch)
{
    vbp_writer_opts o = { { TH, TW, ch, 1 }, VBP_CODEC_RAW, 1 };
    vbp_writer *w;
    if (vbp_writer_open(path, &o, &w, NULL))
        return -1;
    static uint8_t frame[3 * TH * TW], heat[TH * TW];
    for (uint32_t c = 0; c < NCLIPS; c++) {
        if (vbp_writer_begin_clip(w, clips[c].name, clips[c].group, clips[c].split, NULL))
            return -1;
        for (int pass = 0; pass < 2; pass++) {
            for (uint32_t i = 0; i < clips[c].frames; i++) {
                int hidden = (i + c) % 5 == 4;
                float bx = (float)(4 + (i * 3 + c * 5) % 24), by = (float)(3 + (i * 2 + c) % 10);
                vbp_label lab = { (uint8_t)!hidden, hidden ? -1.0f : bx, hidden ? -1.0f : by };
                for (uint32_t y = 0; y < TH; y++)
                    for (uint32_t x = 0; x < TW; x++) {
                        float d2 = ((float)x - bx) * ((float)x - bx) + ((float)y - by) * ((float)y - by);
                        int in = !hidden && d2 <= 4.0f;
                        frame[y * TW + x] = in ? 230 : (uint8_t)(40 + hash32(salt + c * 7919 + i * 131 + y * TW + x) % 40);
                        heat[y * TW + x] = in ? (d2 <= 1.0f ? 255 : 150) : 0; /* two levels for binary cuts */
                        for (uint32_t k = 1; k < ch; k++)
                            frame[k * TH * TW + y * TW + x] = (uint8_t)(frame[y * TW + x] - 9 * k);
                    }
                int rc = pass == 0 ? vbp_writer_add_frame(w, frame, &lab, NULL)
                                   : vbp_writer_add_heatmap(w, heat, NULL);
                if (rc)
                    return -1;
            }
        }
        if (vbp_writer_end_clip(w, NULL))
            return -1;
    }
    return vbp_writer_finish(w, NULL) ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/vbp_train_XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_pack, sizeof g_pack, "%s/p.vbp", g_dir);
    snprintf(g_pack2, sizeof g_pack2, "%s/p2.vbp", g_dir);
    snprintf(g_pack_rgb, sizeof g_pack_rgb, "%s/rgb.vbp", g_dir);
    return write_pack(g_pack, 0, 1) || write_pack(g_pack2, 1, 1) || write_pack(g_pack_rgb, 0, 3);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *path_in(const char *run, const char *file)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", g_dir, run, file);
    return buf[k];
}

static const char *run_dir(const char *run)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, run);
    return buf;
}

static void base_config(vbp_train_config *c)
{
    vbp_train_config_default(c);
    c->batch = 2;
    c->epochs = 2;
    c->lr = 3e-3f;
    c->lr_decay_epochs = 1; /* decay within the test: resumption must get the schedule right */
    c->seed = 7;
    c->threads = 2;
    c->target = VBP_TARGET_SOFT; /* the tests compare with v / 255 (the trainer's default is binary) */
}

static int train(const char *run, const vbp_train_config *c, vbp_train_summary *sum, vbp_error *err)
{
    return vbp_train_run(g_pack, run_dir(run), c, NULL, sum, err);
}

static void assert_same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    int ca, cb;
    size_t n = 0;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        if (ca != cb)
            fail_msg("%s and %s differ at byte %zu", a, b, n);
        n++;
    } while (ca != EOF);
    fclose(fa);
    fclose(fb);
    assert_true(n > 100);
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* The uninterrupted reference run "ref": 2 epochs. */
static void reference_run(void)
{
    if (access(path_in("ref", "last.state"), F_OK) == 0)
        return;
    vbp_train_config c;
    base_config(&c);
    vbp_train_summary s;
    vbp_error err;
    int rc = train("ref", &c, &s, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    assert_int_equal(s.epochs_done, 2);
    assert_int_equal(s.steps_done, 16); /* (7+5+4 windows) / batch 2 = 8 steps per epoch */
    assert_int_equal(s.stopped_early, 0);
    assert_int_equal(count_lines(path_in("ref", "metrics.jsonl")), 2);
}

static void assert_same_as_reference(const char *run)
{
    assert_same_file(path_in("ref", "last.safetensors"), path_in(run, "last.safetensors"));
    assert_same_file(path_in("ref", "last.state"), path_in(run, "last.state"));
    assert_same_file(path_in("ref", "best.safetensors"), path_in(run, "best.safetensors"));
    assert_int_equal(count_lines(path_in(run, "metrics.jsonl")), 2);
}

static void resume_at_epoch_end(void **state)
{
    (void)state;
    reference_run();
    vbp_train_config c;
    base_config(&c);
    vbp_error err;
    c.epochs = 1;
    assert_int_equal(train("e1", &c, NULL, &err), VBP_OK);
    assert_int_equal(count_lines(path_in("e1", "metrics.jsonl")), 1);
    /* A state file half-written by a killed run (no process has pid 99999998) goes on resume. */
    char stale[600];
    snprintf(stale, sizeof stale, "%s.tmp.99999998", path_in("e1", "last.state"));
    FILE *f = fopen(stale, "w");
    assert_non_null(f);
    fclose(f);
    /* Resume with other thread counts and load mode: neither may change a bit. */
    c.epochs = 2;
    c.resume = 1;
    c.threads = 1;
    c.loader_threads = 0;
    c.mode = VBP_LOAD_PRELOAD;
    int rc = train("e1", &c, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    assert_same_as_reference("e1");
    assert_int_not_equal(access(stale, F_OK), 0);
}

static void resume_mid_epoch(void **state)
{
    (void)state;
    reference_run();
    vbp_train_config c;
    base_config(&c);
    vbp_train_summary s;
    vbp_error err;
    c.checkpoint_every = 3;
    c.stop_after = 5; /* in the middle of epoch 1 (8 steps) */
    assert_int_equal(train("mid", &c, &s, &err), VBP_OK);
    assert_int_equal(s.stopped_early, 1);
    assert_int_equal(s.steps_done, 5);
    vbp_st_file *f;
    assert_int_equal(vbp_safetensors_open(path_in("mid", "last.state"), &f, NULL), VBP_OK);
    assert_string_equal(vbp_safetensors_meta(f, "step"), "5");
    assert_string_equal(vbp_safetensors_meta(f, "epoch"), "0");
    assert_string_equal(vbp_safetensors_meta(f, "batch"), "5");
    vbp_safetensors_close(f);
    assert_true(count_lines(path_in("mid", "metrics.jsonl")) <= 0); /* no epoch finished */
    c.stop_after = 0;
    c.resume = 1;
    c.threads = 1;
    int rc = train("mid", &c, &s, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    assert_same_as_reference("mid");

    /* Stopped after the last batch of epoch 1, before its validation. */
    base_config(&c);
    c.stop_after = 8;
    assert_int_equal(train("end", &c, &s, &err), VBP_OK);
    assert_true(count_lines(path_in("end", "metrics.jsonl")) <= 0);
    c.stop_after = 0;
    c.resume = 1;
    assert_int_equal(train("end", &c, &s, &err), VBP_OK);
    assert_same_as_reference("end");
}

static volatile int g_stop_flag;

static void stop_at_step_3(void *ctx, uint32_t epoch, uint64_t batch, uint64_t batches, double loss)
{
    (void)ctx;
    (void)batches;
    (void)loss;
    if (epoch == 2 && batch == 3)
        g_stop_flag = 1; /* as a SIGINT handler would */
}

static void interrupted_and_resumed(void **state)
{
    (void)state;
    reference_run();
    vbp_train_config c;
    base_config(&c);
    vbp_error err;
    vbp_train_callbacks cb = { NULL, stop_at_step_3, NULL, NULL, &g_stop_flag };
    g_stop_flag = 0;
    assert_int_equal(vbp_train_run(g_pack, run_dir("int"), &c, &cb, NULL, &err), VBP_E_INTERRUPTED);
    assert_non_null(strstr(err.detail, "after step 11"));
    assert_non_null(strstr(err.detail, "last.state"));
    g_stop_flag = 0;
    c.resume = 1;
    int rc = vbp_train_run(g_pack, run_dir("int"), &c, &cb, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    assert_same_as_reference("int");
}

static void state_file_contents(void **state)
{
    (void)state;
    reference_run();
    vbp_st_file *f;
    assert_int_equal(vbp_safetensors_open(path_in("ref", "last.state"), &f, NULL), VBP_OK);
    assert_string_equal(vbp_safetensors_meta(f, "format"), "vbtrain-state");
    assert_string_equal(vbp_safetensors_meta(f, "version"), "1");
    assert_string_equal(vbp_safetensors_meta(f, "cfg.batch"), "2");
    assert_string_equal(vbp_safetensors_meta(f, "cfg.seq"), "3");
    assert_string_equal(vbp_safetensors_meta(f, "step"), "16");
    assert_string_equal(vbp_safetensors_meta(f, "adam_steps"), "16");
    assert_string_equal(vbp_safetensors_meta(f, "epoch"), "2");
    /* Every parameter appears three times (model, adam_m, adam_v) with the same shape. */
    vbp_st_file *w;
    assert_int_equal(vbp_safetensors_open(path_in("ref", "last.safetensors"), &w, NULL), VBP_OK);
    size_t params = 0;
    for (size_t i = 0; i < vbp_safetensors_count(w); i++) {
        vbp_st_tensor t, s;
        char name[256];
        assert_int_equal(vbp_safetensors_get(w, i, &t), VBP_OK);
        snprintf(name, sizeof name, "model.%s", t.name);
        assert_int_equal(vbp_safetensors_find(f, name, &s), VBP_OK);
        assert_int_equal(s.ndim, t.ndim);
        assert_memory_equal(s.data, t.data, vbp_st_numel(&t) * vbp_st_dtype_size(t.dtype));
        snprintf(name, sizeof name, "adam_v.%s", t.name);
        if (vbp_safetensors_find(f, name, &s) == VBP_OK) {
            params++;
            const float *v = s.data;
            assert_true(v[0] >= 0.0f); /* second moments */
        }
    }
    assert_true(params >= 8);
    vbp_safetensors_close(w);
    vbp_safetensors_close(f);
}

static void resume_errors(void **state)
{
    (void)state;
    reference_run();
    vbp_train_config c;
    base_config(&c);
    vbp_error err;
    /* A fresh run over an existing one. */
    assert_int_equal(train("ref", &c, NULL, &err), VBP_E_EXISTS);
    assert_non_null(strstr(err.detail, "last.state"));
    /* Another configuration: the message names the file and the key. */
    c.resume = 1;
    c.epochs = 3;
    c.batch = 4;
    assert_int_equal(train("ref", &c, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "last.state"));
    assert_non_null(strstr(err.detail, "batch=2"));
    assert_non_null(strstr(err.detail, "batch=4"));
    base_config(&c);
    c.resume = 1;
    c.epochs = 3;
    c.optimizer = VBP_OPT_ADAMW;
    assert_int_equal(train("ref", &c, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "optimizer=adam,"));
    /* Another pack. */
    base_config(&c);
    c.resume = 1;
    c.epochs = 3;
    assert_int_equal(vbp_train_run(g_pack2, run_dir("ref"), &c, NULL, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "another pack"));
    /* Nothing to resume. */
    assert_int_equal(train("nothing", &c, NULL, &err), VBP_E_IO);
    assert_non_null(strstr(err.detail, "no checkpoint"));
    /* Geometry: RGB asked of a gray pack. */
    base_config(&c);
    c.channels = 3;
    assert_int_equal(train("rgb", &c, NULL, &err), VBP_E_GEOMETRY);
    /* The failed attempts left the reference run untouched. */
    assert_int_equal(count_lines(path_in("ref", "metrics.jsonl")), 2);
    base_config(&c);
    c.resume = 1;
    assert_int_equal(train("ref", &c, NULL, &err), VBP_OK); /* already done: nothing to do */
    assert_int_equal(count_lines(path_in("ref", "metrics.jsonl")), 2);
}

static int files_differ(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    int ca, cb, differ = 0;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        differ |= ca != cb;
    } while (ca != EOF && cb != EOF);
    fclose(fa);
    fclose(fb);
    return differ;
}

/* Binary targets are recorded: --resume without them continues binary, bit-identically. */
static void resume_keeps_binary_target(void **state)
{
    (void)state;
    reference_run();
    vbp_train_config c;
    base_config(&c);
    c.target = VBP_TARGET_BINARY;
    c.target_cut = 100;
    vbp_error err;
    int rc = train("bin", &c, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    vbp_st_file *f;
    assert_int_equal(vbp_safetensors_open(path_in("bin", "last.state"), &f, NULL), VBP_OK);
    assert_string_equal(vbp_safetensors_meta(f, "cfg.target"), "binary");
    assert_string_equal(vbp_safetensors_meta(f, "cfg.target_cut"), "100");
    vbp_safetensors_close(f);
    /* Asked for nothing, the trainer records binary targets at the default cut. */
    vbp_train_config d = c;
    d.target = VBP_TARGET_AUTO;
    d.target_cut = 0;
    d.stop_after = 1;
    assert_int_equal(train("auto", &d, NULL, &err), VBP_OK);
    assert_int_equal(vbp_safetensors_open(path_in("auto", "last.state"), &f, NULL), VBP_OK);
    assert_string_equal(vbp_safetensors_meta(f, "cfg.target"), "binary");
    assert_string_equal(vbp_safetensors_meta(f, "cfg.target_cut"), "64");
    vbp_safetensors_close(f);
    assert_true(files_differ(path_in("ref", "last.safetensors"), path_in("bin", "last.safetensors")));
    /* Another cut trains differently. */
    c.target_cut = 200;
    c.epochs = 1;
    assert_int_equal(train("bin200", &c, NULL, &err), VBP_OK);
    c.target_cut = 100;
    assert_int_equal(train("bin1", &c, NULL, &err), VBP_OK);
    assert_true(files_differ(path_in("bin1", "last.safetensors"), path_in("bin200", "last.safetensors")));
    /* Resume without naming the target: the recorded one. */
    base_config(&c);
    c.target = VBP_TARGET_AUTO;
    c.resume = 1;
    rc = train("bin1", &c, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    assert_same_file(path_in("bin", "last.state"), path_in("bin1", "last.state"));
    assert_same_file(path_in("bin", "best.safetensors"), path_in("bin1", "best.safetensors"));
    /* Asking for another target or cut names the key. */
    c.epochs = 3;
    c.target = VBP_TARGET_SOFT;
    assert_int_equal(train("bin1", &c, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "target=binary"));
    assert_non_null(strstr(err.detail, "target=soft"));
    c.target = VBP_TARGET_BINARY;
    c.target_cut = 128;
    assert_int_equal(train("bin1", &c, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "target_cut=100"));
    /* A soft run resumed as soft, explicitly, is fine (the reference is soft). */
    base_config(&c);
    c.resume = 1;
    c.target = VBP_TARGET_SOFT;
    assert_int_equal(train("ref", &c, NULL, &err), VBP_OK);
}

static double g_first_loss;

static void keep_first_loss(void *ctx, uint32_t epoch, uint64_t batch, uint64_t batches, double loss)
{
    (void)ctx;
    (void)batches;
    if (epoch == 1 && batch == 1)
        g_first_loss = loss;
}

/* Loss of the first training batch (seed 7, batch 2, flip 0.5) for the weights W in training mode. */
static float first_batch_loss(const char *weights)
{
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.channels = 1;
    o.seed = 7;
    o.flip_prob = 0.5f;
    o.batch = 2;
    vbp_loader *ld;
    vbp_error err;
    assert_int_equal(vbp_loader_open_path(g_pack, &o, &ld, &err), VBP_OK);
    vbp_batch b;
    assert_int_equal(vbp_loader_next(ld, &b, &err), 2);
    vbp_net_config nc = { 3, 3, TH, TW, 2, 2, NULL };
    vbp_net *net;
    assert_int_equal(vbp_net_create(&nc, 0, &net, &err), VBP_OK);
    assert_int_equal(vbp_net_load_safetensors(net, weights, &err), VBP_OK);
    float loss;
    assert_int_equal(vbp_net_forward(net, b.x, b.n, 1, &err), VBP_OK);
    assert_int_equal(vbp_net_loss(net, b.y, &loss, &err), VBP_OK);
    vbp_net_free(net);
    vbp_loader_close(ld);
    return loss;
}

/* --init: the first step sees exactly the given weights; mismatches name the file. */
static void init_from_weights(void **state)
{
    (void)state;
    reference_run();
    const char *w = path_in("ref", "best.safetensors");
    vbp_train_config c;
    base_config(&c);
    c.epochs = 1;
    vbp_error err;
    vbp_train_callbacks cb = { NULL, keep_first_loss, NULL, NULL, NULL };
    g_first_loss = -1.0;
    assert_int_equal(vbp_train_run(g_pack, run_dir("scratch"), &c, &cb, NULL, &err), VBP_OK);
    double scratch = g_first_loss;
    c.init = w;
    g_first_loss = -1.0;
    int rc = vbp_train_run(g_pack, run_dir("init"), &c, &cb, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    float want = first_batch_loss(w);
    assert_true(g_first_loss == (double)want);
    assert_true(scratch != g_first_loss);
    /* Trained weights start lower than random ones on the same batch. */
    assert_true(g_first_loss < scratch);
    /* The optimizer started fresh: step counters of one epoch, not 16 + 8. */
    vbp_st_file *f;
    assert_int_equal(vbp_safetensors_open(path_in("init", "last.state"), &f, NULL), VBP_OK);
    assert_string_equal(vbp_safetensors_meta(f, "step"), "8");
    assert_string_equal(vbp_safetensors_meta(f, "adam_steps"), "8");
    vbp_safetensors_close(f);
    /* Resuming a fine-tuning run with the same command line ignores --init. */
    c.epochs = 2;
    c.resume = 1;
    assert_int_equal(vbp_train_run(g_pack, run_dir("init"), &c, NULL, NULL, &err), VBP_OK);

    /* seq 5 asked of seq-3 weights. */
    base_config(&c);
    c.init = w;
    c.seq = 5;
    assert_int_equal(train("init5", &c, NULL, &err), VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "best.safetensors"));
    assert_non_null(strstr(err.detail, "seq 3"));
    assert_int_not_equal(access(run_dir("init5"), F_OK), 0);
    /* RGB weights for a gray run. */
    char rgb[600];
    snprintf(rgb, sizeof rgb, "%s/rgb.safetensors", g_dir);
    vbp_net_config nc = { 9, 3, TH, TW, 1, 1, NULL };
    vbp_net *net;
    assert_int_equal(vbp_net_create(&nc, 0, &net, &err), VBP_OK);
    assert_int_equal(vbp_net_save_safetensors(net, rgb, &err), VBP_OK);
    vbp_net_free(net);
    base_config(&c);
    c.init = rgb;
    assert_int_equal(train("initrgb", &c, NULL, &err), VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "rgb.safetensors"));
    assert_non_null(strstr(err.detail, "3 channel(s)"));
    /* A tensor missing: every tensor of the file but one in the middle. */
    char part[600];
    snprintf(part, sizeof part, "%s/part.safetensors", g_dir);
    vbp_st_file *wf;
    assert_int_equal(vbp_safetensors_open(w, &wf, NULL), VBP_OK);
    size_t n = vbp_safetensors_count(wf), k = 0;
    vbp_st_tensor *t = calloc(n, sizeof *t);
    char dropped[128] = "";
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vbp_safetensors_get(wf, i, &t[k]), VBP_OK);
        if (i == n / 2)
            snprintf(dropped, sizeof dropped, "%s", t[k].name);
        else
            k++;
    }
    assert_int_equal(vbp_safetensors_write(part, t, k, NULL, 0, &err), VBP_OK);
    free(t);
    vbp_safetensors_close(wf);
    base_config(&c);
    c.init = part;
    rc = train("initpart", &c, NULL, &err);
    assert_true(rc != VBP_OK);
    assert_non_null(strstr(err.detail, "part.safetensors"));
    assert_non_null(strstr(err.detail, dropped));
    /* Not a weights file at all. */
    c.init = path_in("ref", "metrics.jsonl");
    assert_true(train("initjunk", &c, NULL, &err) != VBP_OK);
    assert_non_null(strstr(err.detail, "metrics.jsonl"));
}

/*
 * VballNetV1 through the trainer, on a gray and an RGB pack: --model recorded in the checkpoint and the weights, a resumed
 * run takes it from the checkpoint and is bit-identical, --model naming the other
 * architecture is refused before anything is written, --init takes the architecture of the
 * weights, eval and predict read it from them.
 */
static void v1_trains_resumes_evaluates(void **state)
{
    (void)state;
    for (uint32_t channels = 1; channels <= 3; channels += 2) {
        const char *pack = channels == 3 ? g_pack_rgb : g_pack;
#define TRAIN(run, cfg, err) vbp_train_run(pack, run_dir(run), cfg, NULL, NULL, err)
        char ref[16], half[16], pred[16];
        snprintf(ref, sizeof ref, "v1ref%u", channels);
        snprintf(half, sizeof half, "v1half%u", channels);
        snprintf(pred, sizeof pred, "v1pred%u", channels);
        vbp_train_config c;
        base_config(&c);
        c.model = "VballNetV1";
        c.channels = channels;
        vbp_error err;
        int rc = TRAIN(ref, &c, &err);
        if (rc)
            fail_msg("%s", vbp_error_message(&err));
        vbp_st_file *f;
        assert_int_equal(vbp_safetensors_open(path_in(ref, "best.safetensors"), &f, NULL), VBP_OK);
        assert_string_equal(vbp_safetensors_meta(f, "model"), "VballNetV1");
        vbp_safetensors_close(f);
        assert_int_equal(vbp_safetensors_open(path_in(ref, "last.state"), &f, NULL), VBP_OK);
        assert_string_equal(vbp_safetensors_meta(f, "cfg.model"), "VballNetV1");
        vbp_safetensors_close(f);
        /* one epoch, then resumed without --model: the same bytes */
        c.epochs = 1;
        assert_int_equal(TRAIN(half, &c, &err), VBP_OK);
        c.epochs = 2, c.resume = 1, c.model = NULL, c.threads = 1;
        rc = TRAIN(half, &c, &err);
        if (rc)
            fail_msg("%s", vbp_error_message(&err));
        const char *files[] = {"last.safetensors", "last.state", "best.safetensors"};
        for (int i = 0; i < 3; i++) {
            char a[600];
            snprintf(a, sizeof a, "%s", path_in(ref, files[i]));
            assert_same_file(a, path_in(half, files[i]));
        }
        /* the other architecture asked of this checkpoint: refused, nothing changed */
        c.model = "VballNetFastV1";
        c.epochs = 3;
        assert_int_equal(TRAIN(half, &c, &err), VBP_E_ARG);
        assert_non_null(strstr(err.detail, "last.state: a VballNetV1 network, this run asks for "
                                           "--model VballNetFastV1"));
        assert_int_equal(count_lines(path_in(half, "metrics.jsonl")), 2);
        /* fine-tuning from V1 weights makes a V1 run; FastV1 weights with --model V1 do not */
        base_config(&c);
        c.channels = channels;
        c.epochs = 1;
        c.init = path_in(ref, "best.safetensors");
        char initrun[16];
        snprintf(initrun, sizeof initrun, "v1init%u", channels);
        assert_int_equal(TRAIN(initrun, &c, &err), VBP_OK);
        assert_int_equal(vbp_safetensors_open(path_in(initrun, "last.safetensors"), &f, NULL),
                         VBP_OK);
        assert_string_equal(vbp_safetensors_meta(f, "model"), "VballNetV1");
        vbp_safetensors_close(f);
        if (channels == 1) {
            reference_run();
            c.init = path_in("ref", "best.safetensors");
            c.model = "VballNetV1";
            assert_int_equal(TRAIN("v1bad", &c, &err), VBP_E_ARG);
            assert_non_null(strstr(err.detail, "a VballNetFastV1 network, this run asks for "
                                               "--model VballNetV1"));
            assert_int_not_equal(access(run_dir("v1bad"), F_OK), 0);
        }
        /* eval and predict read the architecture from the weights */
        vbp_eval_config ec;
        vbp_eval_config_default(&ec);
        ec.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL);
        vbp_eval_result r;
        rc = vbp_eval_run(pack, path_in(ref, "best.safetensors"), &ec, &r, &err);
        if (rc)
            fail_msg("%s", vbp_error_message(&err));
        assert_int_equal(r.frames, 9 + 7 + 6 + 6);
        rc = vbp_predict_run(pack, path_in(ref, "best.safetensors"), run_dir(pred), &ec, &r, &err);
        if (rc)
            fail_msg("%s", vbp_error_message(&err));
        assert_int_equal(r.frames, 9 + 7 + 6 + 6);
#undef TRAIN
    }
}

/* Augmentations are recorded like the flip; a resumed augmented run is bit-identical. */
static void augmented_run_resumes_exactly(void **state)
{
    (void)state;
    reference_run();
    vbp_train_config c;
    base_config(&c);
    c.brightness = 0.2f;
    c.contrast = 0.25f;
    c.shift = 3;
    vbp_error err;
    int rc = train("aug", &c, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    assert_true(files_differ(path_in("ref", "last.safetensors"), path_in("aug", "last.safetensors")));
    vbp_st_file *f;
    assert_int_equal(vbp_safetensors_open(path_in("aug", "last.state"), &f, NULL), VBP_OK);
    assert_string_equal(vbp_safetensors_meta(f, "cfg.shift"), "3");
    assert_string_equal(vbp_safetensors_meta(f, "cfg.brightness"), "0.200000003");
    assert_string_equal(vbp_safetensors_meta(f, "cfg.contrast"), "0.25");
    vbp_safetensors_close(f);
    c.stop_after = 5;
    assert_int_equal(train("aug5", &c, NULL, &err), VBP_OK);
    c.stop_after = 0;
    c.resume = 1;
    c.threads = 1;
    assert_int_equal(train("aug5", &c, NULL, &err), VBP_OK);
    assert_same_file(path_in("aug", "last.state"), path_in("aug5", "last.state"));
    assert_same_file(path_in("aug", "best.safetensors"), path_in("aug5", "best.safetensors"));
    c.epochs = 3;
    c.shift = 2;
    assert_int_equal(train("aug5", &c, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "shift=3"));
    assert_non_null(strstr(err.detail, "shift=2"));
    c.shift = 3;
    c.brightness = 0.0f;
    assert_int_equal(train("aug5", &c, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "brightness=0.2"));
    base_config(&c);
    c.contrast = 2.0f;
    assert_int_equal(train("augbad", &c, NULL, &err), VBP_E_ARG);
}

static void nan_stops_the_run(void **state)
{
    (void)state;
    vbp_train_config c;
    base_config(&c);
    vbp_error err;
    c.stop_after = 5;
    assert_int_equal(train("five", &c, NULL, &err), VBP_OK);
    base_config(&c);
    c.checkpoint_every = 5;
    c.nan_at_step = 7;
    assert_int_equal(train("nan", &c, NULL, &err), VBP_E_NUMERIC);
    assert_non_null(strstr(err.detail, "step 7 "));
    assert_non_null(strstr(err.detail, "NaN"));
    assert_non_null(strstr(err.detail, "(step 5)"));
    /* The last good checkpoint is the one of step 5, untouched by the bad step. */
    assert_same_file(path_in("five", "last.safetensors"), path_in("nan", "last.safetensors"));
    assert_same_file(path_in("five", "last.state"), path_in("nan", "last.state"));
    /* Without any checkpoint before the bad step, the message says so. */
    c.checkpoint_every = 0;
    c.nan_at_step = 2;
    assert_int_equal(train("nan2", &c, NULL, &err), VBP_E_NUMERIC);
    assert_non_null(strstr(err.detail, "no checkpoint was written"));
    assert_int_equal(access(path_in("nan2", "last.state"), F_OK), -1);
}

static void eval_and_predict(void **state)
{
    (void)state;
    reference_run();
    const char *weights = path_in("ref", "best.safetensors");
    vbp_net_config wc;
    memset(&wc, 0, sizeof wc);
    uint32_t ch = 0, bg = 1;
    assert_int_equal(vbp_weights_net(weights, &wc, &ch, &bg, NULL), VBP_OK);
    assert_int_equal(wc.out_channels, 3);
    assert_int_equal(ch, 1);
    assert_int_equal(bg, 0);
    assert_string_equal(wc.model, "VballNetFastV1");
    vbp_eval_config ec;
    vbp_eval_config_default(&ec);
    ec.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL);
    vbp_eval_result r;
    vbp_error err;
    int rc = vbp_eval_run(g_pack, weights, &ec, &r, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    /* Every frame of every clip with >= 3 frames once; "tiny" (2 frames) is skipped. */
    assert_int_equal(r.frames, 9 + 7 + 6 + 6);
    assert_int_equal(vbp_counts_total(&r.counts), r.frames);
    assert_int_equal(r.windows, 7 + 5 + 4 + 4);
    assert_int_equal(r.skipped_clips, 1);
    /* Val only: the same numbers as the last epoch's val metrics of the reference run. */
    vbp_eval_config_default(&ec);
    assert_int_equal(vbp_eval_run(g_pack, path_in("ref", "last.safetensors"), &ec, &r, &err), VBP_OK);
    assert_int_equal(r.frames, 6);
    char line[1024];
    vbp_eval_result_json(&r, line, sizeof line);
    FILE *m = fopen(path_in("ref", "metrics.jsonl"), "r");
    char last[2048] = "", buf[2048];
    while (fgets(buf, sizeof buf, m))
        strcpy(last, buf);
    fclose(m);
    char *tp = strstr(line, "\"tp\""), *acc = strstr(line, ",\"seconds\"");
    assert_non_null(tp);
    *acc = '\0';
    assert_non_null(strstr(last, tp));

    /* Predict writes a CSV per clip of the selected splits, every frame. */
    ec.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL);
    const char *out = run_dir("pred");
    rc = vbp_predict_run(g_pack, weights, out, &ec, &r, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    for (size_t c = 0; c < NCLIPS; c++) {
        char path[600];
        if (clips[c].group[0])
            snprintf(path, sizeof path, "%s/%s/%s_ball.csv", out, clips[c].group, clips[c].name);
        else
            snprintf(path, sizeof path, "%s/%s_ball.csv", out, clips[c].name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char row[128];
        assert_non_null(fgets(row, sizeof row, f));
        assert_string_equal(row, "Frame,Visibility,X,Y\n");
        for (uint32_t i = 0; i < clips[c].frames; i++) {
            unsigned fr;
            int vis, x, y;
            assert_non_null(fgets(row, sizeof row, f));
            assert_int_equal(sscanf(row, "%u,%d,%d,%d", &fr, &vis, &x, &y), 4);
            assert_int_equal(fr, i);
            if (vis) {
                assert_int_equal(vis, 1);
                assert_true(x >= 0 && x < (int)TW && y >= 0 && y < (int)TH);
            } else {
                assert_true(x == -1 && y == -1);
            }
            if (clips[c].frames < 3)
                assert_int_equal(vis, 0);
        }
        assert_null(fgets(row, sizeof row, f));
        fclose(f);
    }
    /* A weights file that is not one. */
    assert_int_equal(vbp_eval_run(g_pack, path_in("ref", "metrics.jsonl"), &ec, &r, &err) < 0, 1);
    assert_non_null(strstr(err.detail, "metrics.jsonl"));
}

/* The detection threshold: --threshold, else the weights' metadata, else 0.5; bad metadata is
 * an error naming the file. */
static void threshold_from_weights(void **state)
{
    (void)state;
    float v[1] = {1.0f};
    vbp_st_tensor t = {"w", VBP_ST_F32, 1, {1}, v};
    const char *good[] = {"threshold", "0.35"}, *bad[] = {"threshold", "1.5"};
    const char *with = path_in("thr", "with.safetensors"), *without = path_in("thr", "no.safetensors");
    const char *wrong = path_in("thr", "bad.safetensors");
    mkdir(run_dir("thr"), 0755);
    assert_int_equal(vbp_safetensors_write(with, &t, 1, good, 1, NULL), VBP_OK);
    assert_int_equal(vbp_safetensors_write(without, &t, 1, NULL, 0, NULL), VBP_OK);
    assert_int_equal(vbp_safetensors_write(wrong, &t, 1, bad, 1, NULL), VBP_OK);
    float got = 0;
    vbp_error err;
    assert_int_equal(vbp_weights_threshold(with, 0.0f, &got, &err), VBP_OK);
    assert_float_equal(got, 0.35f, 0);
    assert_int_equal(vbp_weights_threshold(with, 0.6f, &got, &err), VBP_OK);
    assert_float_equal(got, 0.6f, 0);
    assert_int_equal(vbp_weights_threshold(without, 0.0f, &got, &err), VBP_OK);
    assert_float_equal(got, VBP_DETECT_THRESHOLD, 0);
    assert_int_equal(vbp_weights_threshold(wrong, 0.0f, &got, &err), VBP_E_FORMAT);
    assert_non_null(strstr(err.detail, "bad.safetensors"));
}

/* The temporal mean: every frame's heatmap averaged over the windows that hold it, computed
 * directly, for clips of seq .. seq+6 frames and windows of 1, 3 and 5, two clips in a row. */
static void temporal_mean_matches_direct(void **state)
{
    (void)state;
    enum { PL = 7 };
    for (uint32_t seq = 1; seq <= 5; seq += 2) {
        vbp_tmean m;
        assert_int_equal(vbp_tmean_init(&m, seq, PL, NULL), VBP_OK);
        for (uint32_t n = seq; n <= seq + 6; n++) {
            const uint32_t nw = n - seq + 1;
            /* window s, frame j, pixel i: a value that tells all three apart */
            float *heat = malloc((size_t)nw * seq * PL * sizeof *heat);
            for (uint32_t s = 0; s < nw; s++)
                for (uint32_t j = 0; j < seq; j++)
                    for (uint32_t i = 0; i < PL; i++)
                        heat[((size_t)s * seq + j) * PL + i] = (float)(s * 100 + j * 10 + i);
            float got[16][PL];
            vbp_tmean_reset(&m);
            for (uint32_t s = 0; s < nw; s++)
                memcpy(got[s], vbp_tmean_add(&m, heat + (size_t)s * seq * PL), sizeof got[s]);
            for (uint32_t j = 1; j < seq; j++)
                memcpy(got[nw - 1 + j], vbp_tmean_tail(&m, j), sizeof got[0]);
            for (uint32_t f = 0; f < n; f++)
                for (uint32_t i = 0; i < PL; i++) {
                    double sum = 0;
                    int k = 0;
                    for (uint32_t s = 0; s < nw; s++)
                        if (f >= s && f < s + seq)
                            sum += heat[((size_t)s * seq + (f - s)) * PL + i], k++;
                    assert_true(k >= 1 && k <= (int)seq);
                    assert_float_equal(got[f][i], sum / k, 1e-4);
                }
            free(heat);
        }
        vbp_tmean_free(&m);
    }
}

/* Per-clip counts (vbp_eval_config.clip_counts): each clip's frames, summing to the total. */
static void eval_per_clip(void **state)
{
    (void)state;
    reference_run();
    const char *weights = path_in("ref", "best.safetensors");
    vbp_counts clip[NCLIPS], expect = { 0 };
    memset(clip, 0xff, sizeof clip); /* must be reset */
    vbp_eval_config ec;
    vbp_eval_config_default(&ec);
    ec.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL);
    ec.clip_counts = clip;
    ec.clip_count = NCLIPS;
    vbp_eval_result r;
    vbp_error err;
    if (vbp_eval_run(g_pack, weights, &ec, &r, &err))
        fail_msg("%s", vbp_error_message(&err));
    for (size_t c = 0; c < NCLIPS; c++) {
        /* the tiny clip (2 frames < seq) is not predicted */
        assert_int_equal(vbp_counts_total(&clip[c]), clips[c].frames < 3 ? 0 : clips[c].frames);
        expect.tp += clip[c].tp, expect.tn += clip[c].tn, expect.fp1 += clip[c].fp1;
        expect.fp2 += clip[c].fp2, expect.fn += clip[c].fn;
    }
    assert_memory_equal(&expect, &r.counts, sizeof expect);
    /* The counts of a clip are those of an evaluation of that clip alone: val is clip "v". */
    vbp_eval_result rv;
    vbp_eval_config ev;
    vbp_eval_config_default(&ev);
    assert_int_equal(vbp_eval_run(g_pack, weights, &ev, &rv, &err), VBP_OK);
    assert_memory_equal(&clip[3], &rv.counts, sizeof rv.counts);

    /* JSON: the total object plus "clips", one entry per counted clip with its qualified name. */
    vbp_pack *pack;
    assert_int_equal(vbp_pack_open(g_pack, &pack, &err), VBP_OK);
    size_t n = vbp_eval_clips_json(&r, pack, clip, NULL, 0);
    char *line = malloc(n + 1);
    assert_non_null(line);
    assert_int_equal(vbp_eval_clips_json(&r, pack, clip, line, n + 1), n);
    vbp_pack_close(pack);
    char total[1024];
    vbp_eval_result_json(&r, total, sizeof total);
    total[strlen(total) - 1] = '\0'; /* without its closing brace */
    assert_int_equal(strncmp(line, total, strlen(total)), 0);
    char want[256];
    snprintf(want, sizeof want, "{\"clip\":\"m2/v\",\"split\":\"val\",\"frames\":6,\"tp\":%llu,"
             "\"tn\":%llu,", (unsigned long long)clip[3].tp, (unsigned long long)clip[3].tn);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, ",\"clips\":[{\"clip\":\"a\",\"split\":\"train\",\"frames\":9,"));
    assert_null(strstr(line, "tiny"));
    free(line);

    /* predict fills them too; a count that does not fit the pack is an error naming it. */
    memset(clip, 0xff, sizeof clip);
    if (vbp_predict_run(g_pack, weights, run_dir("predclip"), &ec, &r, &err))
        fail_msg("%s", vbp_error_message(&err));
    assert_memory_equal(&clip[3], &rv.counts, sizeof rv.counts);
    ec.clip_count = NCLIPS - 1;
    assert_int_equal(vbp_eval_run(g_pack, weights, &ec, &r, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, g_pack));
    assert_non_null(strstr(err.detail, "5 clips"));
}

/* Pure-colour pixels of an RGB planar image: count, and the largest distance from (cx, cy). */
static size_t colour_pixels(const uint8_t *img, uint32_t w, uint32_t h, const uint8_t rgb[3],
                            float cx, float cy, float *max_dist)
{
    size_t plane = (size_t)w * h, n = 0;
    *max_dist = 0.0f;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (img[i] == rgb[0] && img[plane + i] == rgb[1] && img[2 * plane + i] == rgb[2]) {
                n++;
                float d = hypotf((float)x - cx, (float)y - cy);
                *max_dist = d > *max_dist ? d : *max_dist;
            }
        }
    return n;
}

static uint8_t at(const uint8_t *img, uint32_t w, uint32_t h, uint32_t c, uint32_t x, uint32_t y)
{
    return img[(size_t)c * w * h + (size_t)y * w + x];
}

/* Names from a pack never make predict or the overlays write outside their directory. */
static void hostile_clip_names_stay_inside(void **state)
{
    (void)state;
    reference_run();
    /* { group, name } */
    static const char *const names[][2] = { { "..", "c" }, { "", "../c" }, { "m", "a/b" },
                                             { ".", "c" } };
    static uint8_t px[TH * TW];
    assert_int_equal(vbp_make_dir(run_dir("hostile"), NULL), VBP_OK);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char pack[512];
        snprintf(pack, sizeof pack, "%s", path_in("hostile", "h.vbp"));
        vbp_writer_opts o = { { TH, TW, 1, 1 }, VBP_CODEC_RAW, 1 };
        vbp_writer *w;
        vbp_error err;
        assert_int_equal(vbp_writer_open(pack, &o, &w, &err), VBP_OK);
        if (strchr(names[k][0], '/') || strchr(names[k][1], '/')) { /* never in a pack (the spec) */
            assert_int_equal(vbp_writer_begin_clip(w, names[k][1], names[k][0], VBP_SPLIT_VAL, &err),
                             VBP_E_ARG);
            vbp_writer_abort(w);
            continue;
        }
        assert_int_equal(vbp_writer_begin_clip(w, names[k][1], names[k][0], VBP_SPLIT_VAL, &err),
                         VBP_OK);
        for (int i = 0; i < 8; i++)
            assert_int_equal(i < 4 ? vbp_writer_add_frame(w, px, NULL, &err)
                                   : vbp_writer_add_heatmap(w, px, &err), VBP_OK);
        assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
        assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
        vbp_eval_config ec;
        vbp_eval_config_default(&ec);
        ec.overlay_dir = path_in("hostile", "ov");
        int rc = vbp_predict_run(pack, path_in("ref", "best.safetensors"), path_in("hostile", "out"),
                                 &ec, NULL, &err);
        assert_int_equal(rc, VBP_E_INPUT);
        assert_non_null(strstr(err.detail, "cannot name a file there"));
        /* refused before anything was written */
        assert_int_equal(access(path_in("hostile", "out"), F_OK), -1);
        assert_int_equal(access(path_in("hostile", "ov"), F_OK), -1);
        assert_int_equal(access(path_in("hostile", "c_ball.csv"), F_OK), -1);
        vbp_pack *p;
        assert_int_equal(vbp_pack_open(pack, &p, &err), VBP_OK);
        vbp_detection pred[4] = { { 0, -1.0f, -1.0f } };
        assert_int_equal(vbp_overlay_clip(p, 0, pred, path_in("hostile", "o2"), &err), VBP_E_INPUT);
        vbp_pack_close(p);
    }
    char want[700];
    snprintf(want, sizeof want, "%s: clip '../c' cannot name a file there", path_in("hostile", "o2"));
    /* (a clip struct from elsewhere than a pack may still hold one: vbp_clip_path refuses it) */
    vbp_error err;
    vbp_clip c = { "c", "..", VBP_SPLIT_VAL, 0, 1, { 0, 0, 0, 0 } };
    char out[256];
    assert_int_equal(vbp_clip_path(out, sizeof out, path_in("hostile", "o2"), &c, "", &err), VBP_E_INPUT);
    assert_non_null(strstr(err.detail, want));
}

/* Overlays: frame PNGs with the predicted (red) and labelled (green) ball where they are,
 * a contact sheet per clip; through vbp_predict_run and with chosen predictions. */
static void overlay_pictures(void **state)
{
    (void)state;
    reference_run();
    static const uint8_t red[3] = { 255, 0, 0 }, green[3] = { 0, 255, 0 };
    vbp_pack *pack;
    vbp_error err;
    assert_int_equal(vbp_pack_open(g_pack, &pack, &err), VBP_OK);
    /* Clip "a" (index 0, 9 frames) with a prediction at (16.2, 7.8) on even frames. */
    vbp_detection pred[9];
    for (int i = 0; i < 9; i++)
        pred[i] = i % 2 ? (vbp_detection){ 0, -1.0f, -1.0f } : (vbp_detection){ 1, 16.2f, 7.8f };
    const char *dir = run_dir("ov");
    assert_int_equal(vbp_make_dir(dir, &err), VBP_OK);
    int rc = vbp_overlay_clip(pack, 0, pred, dir, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    for (uint32_t i = 0; i < 9; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/a/%06u.png", dir, i);
        uint32_t w = 0, h = 0;
        uint8_t *img = test_png_load(path, 3, &w, &h);
        assert_non_null(img);
        assert_int_equal(w, TW);
        assert_int_equal(h, TH);
        float far;
        size_t nr = colour_pixels(img, w, h, red, 16.2f, 7.8f, &far);
        if (i % 2 == 0) {
            assert_true(nr >= 20);
            assert_true(far <= VBP_OVERLAY_PRED_R + 1.5f);
            /* on the ring (right of the centre) and at the centre (cross) */
            assert_int_equal(at(img, w, h, 0, 21, 8), 255);
            assert_int_equal(at(img, w, h, 1, 21, 8), 0);
            assert_int_equal(at(img, w, h, 1, 16, 8), 0);
            assert_int_equal(at(img, w, h, 0, 16, 8), 255);
        } else {
            assert_int_equal(nr, 0);
        }
        vbp_label lab = vbp_pack_label(pack, i);
        size_t ng = colour_pixels(img, w, h, green, lab.x, lab.y, &far);
        if (lab.visibility) {
            assert_true(ng >= 5);
            assert_true(far <= VBP_OVERLAY_LABEL_R + 1.5f);
        } else {
            assert_int_equal(ng, 0);
        }
        /* Away from the marks the frame is the pack's gray frame, expanded. */
        assert_int_equal(at(img, w, h, 0, 31, 15), at(img, w, h, 1, 31, 15));
        free(img);
    }
    /* Sheet: 9 frames, 6 columns of 32x16 tiles 2 px apart: 206 x 38; frame 0's tile has red. */
    char path[2048];
    snprintf(path, sizeof path, "%s/a_sheet.png", dir);
    uint32_t w = 0, h = 0;
    uint8_t *img = test_png_load(path, 3, &w, &h);
    assert_non_null(img);
    assert_int_equal(w, 2 + 6 * (TW + 2));
    assert_int_equal(h, 2 + 2 * (TH + 2));
    float far;
    assert_true(colour_pixels(img, w, h, red, 2 + 16.2f, 2 + 7.8f, &far) > 0);
    free(img);
    vbp_pack_close(pack);

    /* Through predict: one PNG per predicted frame of each clip, sheets, red iff the CSV says so. */
    vbp_eval_config ec;
    vbp_eval_config_default(&ec);
    ec.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL);
    char ov[600];
    snprintf(ov, sizeof ov, "%s/ovp", g_dir);
    ec.overlay_dir = ov;
    rc = vbp_predict_run(g_pack, path_in("ref", "best.safetensors"), run_dir("predov"), &ec, NULL, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    for (size_t c = 0; c < NCLIPS; c++) {
        char sub[64], csv[1024];
        if (clips[c].group[0])
            snprintf(sub, sizeof sub, "%s/%s", clips[c].group, clips[c].name);
        else
            snprintf(sub, sizeof sub, "%s", clips[c].name);
        snprintf(path, sizeof path, "%s/%s_sheet.png", ov, sub);
        assert_int_equal(access(path, F_OK) == 0, clips[c].frames >= 3);
        if (clips[c].frames < 3)
            continue;
        snprintf(csv, sizeof csv, "%s/%s_ball.csv", run_dir("predov"), sub);
        FILE *f = fopen(csv, "r");
        assert_non_null(f);
        char row[128];
        assert_non_null(fgets(row, sizeof row, f));
        for (uint32_t i = 0; i < clips[c].frames; i++) {
            unsigned fr;
            int vis, x, y;
            assert_non_null(fgets(row, sizeof row, f));
            assert_int_equal(sscanf(row, "%u,%d,%d,%d", &fr, &vis, &x, &y), 4);
            snprintf(path, sizeof path, "%s/%s/%06u.png", ov, sub, i);
            img = test_png_load(path, 3, &w, &h);
            assert_non_null(img);
            assert_int_equal(w, TW);
            assert_int_equal(h, TH);
            size_t nr = colour_pixels(img, w, h, red, (float)x, (float)y, &far);
            assert_int_equal(nr > 0, vis);
            if (vis)
                assert_true(far <= VBP_OVERLAY_PRED_R + 2.0f);
            free(img);
        }
        fclose(f);
        snprintf(path, sizeof path, "%s/%s/%06u.png", ov, sub, clips[c].frames);
        assert_int_not_equal(access(path, F_OK), 0);
    }
}

static int is_rgb(const uint8_t *img, uint32_t w, uint32_t h, uint32_t x, uint32_t y, const uint8_t rgb[3])
{
    return at(img, w, h, 0, x, y) == rgb[0] && at(img, w, h, 1, x, y) == rgb[1] &&
           at(img, w, h, 2, x, y) == rgb[2];
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The learning curve: known values at the documented pixels; malformed input named. */
static void learning_curve_png(void **state)
{
    (void)state;
    reference_run();
    static const uint8_t blue[3] = { VBP_PLOT_TRAIN_RGB }, orange[3] = { VBP_PLOT_VAL_RGB },
                         green[3] = { VBP_PLOT_F1_RGB };
    char m[600], png[600];
    snprintf(m, sizeof m, "%s/curve_metrics.jsonl", g_dir);
    snprintf(png, sizeof png, "%s/curve.png", g_dir);
    /* train loss 1e-1, 1e-2, 1e-3; val loss 0.03 flat; val F1 0.5 flat. */
    write_text(m,
        "{\"epoch\":1,\"epochs\":3,\"step\":8,\"lr\":0.001,\"train_loss\":0.1,\"val\":{\"skipped_clips\":0,"
        "\"loss\":0.03,\"windows\":4,\"frames\":6,\"tp\":3,\"tn\":0,\"fp1\":0,\"fp2\":0,\"fn\":3,"
        "\"precision\":1,\"recall\":0.5,\"f1\":0.5,\"accuracy\":0.5,\"seconds\":0.1},\"best\":true}\n"
        "{\"epoch\":2,\"train_loss\":0.01,\"val\":{\"loss\":0.03,\"f1\":0.5}}\n"
        "{\"epoch\":3,\"train_loss\":0.001,\"val\":{\"loss\":0.03,\"f1\":0.5}}\n");
    vbp_error err;
    int rc = vbp_plot_metrics(m, png, &err);
    if (rc)
        fail_msg("%s", vbp_error_message(&err));
    uint32_t w = 0, h = 0;
    uint8_t *img = test_png_load(png, 3, &w, &h);
    assert_non_null(img);
    assert_int_equal(w, VBP_PLOT_WIDTH);
    assert_int_equal(h, VBP_PLOT_HEIGHT);
    /* Log scale 1e-3 .. 1e-1: epoch 2 (x 425) at 1e-2 is the middle row, epoch 3 the bottom. */
    assert_true(is_rgb(img, w, h, 425, 130, blue));
    assert_true(is_rgb(img, w, h, 780, 230, blue));
    assert_true(is_rgb(img, w, h, 70, 30, blue));
    /* val loss 0.03: row round(230 - 200 * (log10(0.03) + 3) / 2) = 82, two rows thick. */
    int ylog = (int)lround(230 - 200 * (log10(0.03) + 3) / 2);
    assert_int_equal(ylog, 82);
    for (uint32_t x = 100; x < 760; x += 37) {
        assert_true(is_rgb(img, w, h, x, 82, orange));
        assert_true(is_rgb(img, w, h, x, 83, orange));
        assert_false(is_rgb(img, w, h, x, 81, orange));
        assert_false(is_rgb(img, w, h, x, 84, orange));
    }
    /* F1 0.5: row 450 - 0.5 * 170 = 365; between the epochs no other green in the column
     * of the panel (the legend "val F1" is above it). */
    for (uint32_t x = 100; x < 760; x += 37) {
        if (abs((int)x - 425) <= 3)
            continue;
        for (uint32_t y = VBP_PLOT_F1_TOP - 2; y < h; y++)
            assert_int_equal(is_rgb(img, w, h, x, y, green), y == 365 || y == 366);
    }
    free(img);

    /* Training draws its curve at every epoch end. */
    img = test_png_load(path_in("ref", "curve.png"), 3, &w, &h);
    assert_non_null(img);
    assert_int_equal(w, VBP_PLOT_WIDTH);
    size_t nb = 0, no = 0, ng = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            nb += is_rgb(img, w, h, x, y, blue);
            no += is_rgb(img, w, h, x, y, orange);
            ng += is_rgb(img, w, h, x, y, green);
        }
    assert_true(nb > 100 && no > 100 && ng > 100);
    free(img);

    /* Malformed: one line naming the file and the line; nothing written. */
    remove(png);
    write_text(m, "{\"epoch\":1,\"train_loss\":0.1,\"val\":null}\nnot json\n");
    assert_int_equal(vbp_plot_metrics(m, png, &err), VBP_E_FORMAT);
    assert_non_null(strstr(err.detail, "curve_metrics.jsonl"));
    assert_non_null(strstr(err.detail, "line 2"));
    assert_null(strchr(err.detail, '\n'));
    assert_int_not_equal(access(png, F_OK), 0);
    write_text(m, "{\"epoch\":1,\"val\":null}\n");
    assert_int_equal(vbp_plot_metrics(m, png, &err), VBP_E_FORMAT);
    assert_non_null(strstr(err.detail, "train_loss"));
    write_text(m, "{\"epoch\":1,\"train_loss\":0.1,\"val\":{\"loss\":0.1}}\n");
    assert_int_equal(vbp_plot_metrics(m, png, &err), VBP_E_FORMAT);
    write_text(m, "");
    assert_int_equal(vbp_plot_metrics(m, png, &err), VBP_E_FORMAT);
    assert_non_null(strstr(err.detail, "no epochs"));
    assert_int_not_equal(access(png, F_OK), 0);
    remove(m);
    assert_int_equal(vbp_plot_metrics(m, png, &err), VBP_E_IO);
    assert_non_null(strstr(err.detail, "curve_metrics.jsonl"));
    /* Without val (null) the train series alone is drawn. */
    write_text(m, "{\"epoch\":1,\"train_loss\":0.1,\"val\":null}\n");
    assert_int_equal(vbp_plot_metrics(m, png, &err), VBP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_at_epoch_end),
        cmocka_unit_test(resume_mid_epoch),
        cmocka_unit_test(interrupted_and_resumed),
        cmocka_unit_test(state_file_contents),
        cmocka_unit_test(resume_errors),
        cmocka_unit_test(resume_keeps_binary_target),
        cmocka_unit_test(init_from_weights),
        cmocka_unit_test(v1_trains_resumes_evaluates),
        cmocka_unit_test(augmented_run_resumes_exactly),
        cmocka_unit_test(nan_stops_the_run),
        cmocka_unit_test(eval_and_predict),
        cmocka_unit_test(eval_per_clip),
        cmocka_unit_test(temporal_mean_matches_direct),
        cmocka_unit_test(threshold_from_weights),
        cmocka_unit_test(overlay_pictures),
        cmocka_unit_test(hostile_clip_names_stay_inside),
        cmocka_unit_test(learning_curve_png),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

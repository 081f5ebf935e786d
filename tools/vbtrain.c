/*
 * vbtrain - train, evaluate and run VballNetFastV1 on a pack, track a ball in a video
 * (thin CLI over vbp_train.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vbp_dist.h"
#include "vbp_guard.h"
#include "vbp_onnx.h"
#include "vbp_train.h"
#include "vbp_util.h"
#include "cli.h"

static const char *const usage_text =
    "usage: vbtrain train   PACK --out RUN_DIR [options]\n"
    "       vbtrain eval    PACK --weights W [--split S] [--tol PX] [--per-clip] [--json]\n"
    "       vbtrain predict PACK --weights W --out DIR [--split S] [--overlay DIR]\n"
    "       vbtrain track   VIDEO --weights W --out BALL.csv [--overlay OUT.mp4]\n"
    "       vbtrain plot    RUN_DIR   (RUN_DIR/metrics.jsonl -> RUN_DIR/curve.png)\n"
    "       vbtrain export  --weights W -o MODEL.onnx [--height H --width W]\n"
    "\n"
    "train: the train split, val metrics after every epoch; RUN_DIR gets last.safetensors,\n"
    "last.state, best.safetensors, metrics.jsonl and curve.png (docs/training.md).\n"
    "      --model NAME          VballNetFastV1 (default) or VballNetV1 (docs/network.md); --init\n"
    "                            and --resume take the architecture of their file\n"
    "      --seq N               frames per window (default 3; VballNetV1: at least 2)\n"
    "      --grayscale | --rgb   frame channels the network takes (default: the pack's)\n"
    "      --background median|none  also feed each clip's background frame, the median of its\n"
    "                            frames (TrackNetV3's input; VballNetFastV1; default none);\n"
    "                            eval, predict, track and export read it from the weights\n"
    "      --epochs E            total epochs, counting resumed ones (default 1)\n"
    "      --batch B             samples per step (default 4); under mpirun the global batch\n"
    "      --accumulate K        run each process's share of a batch as K parts one after another\n"
    "                            (gradients summed, BatchNorm per part; default 1)\n"
    "      --lr LR               initial learning rate (default 0.001)\n"
    "      --lr-decay G          x G every --lr-decay-epochs epochs' worth of steps (default 0.9)\n"
    "      --lr-decay-epochs K   (default 2; 0 = constant learning rate)\n"
    "      --optimizer adam|adamw  (default adam)\n"
    "      --weight-decay WD     L2 (adam) or decoupled (adamw) decay (default 0)\n"
    "      --flip P              horizontal flip probability (default 0.5)\n"
    "      --target soft|binary  heatmap targets: v/255, or 1 where v >= --target-cut (default binary;\n"
    "                            --resume keeps the run's)\n"
    "      --target-cut N        binary cut, 1..255 (default 64: a quarter of the peak)\n"
    "      --brightness F        frame brightness jitter: + uniform [-F, F] (0..1; default 0 = off)\n"
    "      --contrast F          frame contrast jitter: x uniform [1-F, 1+F] (0..1; default 0 = off)\n"
    "      --shift PX            shift frames and heatmaps by up to PX pixels (default 0 = off)\n"
    "      --stride N            training window stride (default 1)\n"
    "      --order auto|shuffle|locality|sequential   epoch order (default auto)\n"
    "      --seed S              weights, order and flips (default 0)\n"
    "      --threads T           network threads (default: all cores)\n"
    "      --preload | --disk    load mode (default disk; both read the mapped pack)\n"
    "      --tol PX              metric tolerance in pixels (default 4; VballNet uses 10)\n"
    "      --checkpoint-every N  also save last.state every N steps\n"
    "      --stop-after N        save and stop after N steps in total (resume later)\n"
    "      --resume              continue RUN_DIR/last.state exactly\n"
    "      --init W              start from the weights W (fine-tuning; optimizer starts fresh)\n"
    "      --json                one JSON line per epoch on stdout (as metrics.jsonl)\n"
    "      --quiet               no progress bar, no notes\n"
    "      (mpirun -np N vbtrain train ...: data-parallel over N ranks in a build with MPI;\n"
    "       docs/training.md, \"Training on a cluster\")\n"
    "eval / predict:\n"
    "      --weights W           a .safetensors state dict (architecture, seq and channels read\n"
    "                            from it)\n"
    "      --split S             train, val, test or all (eval: val; predict: all)\n"
    "      --out DIR             predict: DIR/<clip>_ball.csv (DIR/<match>/... for grouped clips)\n"
    "      --overlay DIR         predict: also DIR/<clip>/NNNNNN.png (predicted ball red, labelled\n"
    "                            green) and a contact sheet DIR/<clip>_sheet.png per clip\n"
    "      --per-clip            also the counts and scores of every clip (JSON: \"clips\")\n"
    "      --threshold T         detect the ball where the heatmap is above T (0..1; default: the\n"
    "                            model's metadata, else 0.5)\n"
    "      --batch B, --threads T, --preload | --disk, --tol PX, --json\n"
    "      --target soft|binary, --target-cut N   targets of the reported loss (as in train)\n"
    "track: the ball in every frame of a video, streaming (no pack, no PNG): BALL.csv is\n"
    "      Frame,Visibility,X,Y in the video's own pixels; --overlay OUT.mp4 also writes the\n"
    "      video with the ball marked (H.264).  docs/training.md, \"Tracking a video\".\n"
    "      --size WxH            frames as the network sees them (default 512x288)\n"
    "      --threshold T, --batch B, --threads T, --json, --quiet\n"
    "export: the inference graph as ONNX (input N x seq*C x H x W float32, N dynamic; output\n"
    "      the seq sigmoid heatmaps; BatchNorm folded; docs/network.md).\n"
    "      --height H, --width W  frame size of the model (default 288 x 512)\n"
    "  -h, --help                this help\n";

enum {
    OPT_SEQ = 256, OPT_GRAY, OPT_RGB, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_LR_DECAY, OPT_LR_EPOCHS,
    OPT_OPTIM, OPT_WD, OPT_FLIP, OPT_STRIDE, OPT_ORDER, OPT_SEED, OPT_THREADS, OPT_PRELOAD,
    OPT_DISK, OPT_TOL, OPT_CKPT, OPT_STOP, OPT_RESUME, OPT_JSON, OPT_QUIET, OPT_OUT, OPT_WEIGHTS,
    OPT_SPLIT, OPT_NAN, OPT_TARGET, OPT_TARGET_CUT, OPT_INIT, OPT_BRIGHT, OPT_CONTRAST, OPT_SHIFT, OPT_OVERLAY,
    OPT_ACCUMULATE, OPT_SIZE, OPT_PER_CLIP, OPT_MODEL, OPT_THRESHOLD, OPT_BACKGROUND
};

static const struct option long_opts[] = {
    { "seq", 1, 0, OPT_SEQ }, { "grayscale", 0, 0, OPT_GRAY }, { "rgb", 0, 0, OPT_RGB },
    { "epochs", 1, 0, OPT_EPOCHS }, { "batch", 1, 0, OPT_BATCH }, { "lr", 1, 0, OPT_LR },
    { "lr-decay", 1, 0, OPT_LR_DECAY }, { "lr-decay-epochs", 1, 0, OPT_LR_EPOCHS },
    { "optimizer", 1, 0, OPT_OPTIM }, { "weight-decay", 1, 0, OPT_WD }, { "flip", 1, 0, OPT_FLIP },
    { "stride", 1, 0, OPT_STRIDE }, { "order", 1, 0, OPT_ORDER }, { "seed", 1, 0, OPT_SEED },
    { "threads", 1, 0, OPT_THREADS }, { "preload", 0, 0, OPT_PRELOAD }, { "disk", 0, 0, OPT_DISK },
    { "tol", 1, 0, OPT_TOL }, { "checkpoint-every", 1, 0, OPT_CKPT }, { "stop-after", 1, 0, OPT_STOP },
    { "resume", 0, 0, OPT_RESUME }, { "json", 0, 0, OPT_JSON }, { "quiet", 0, 0, OPT_QUIET },
    { "out", 1, 0, OPT_OUT }, { "weights", 1, 0, OPT_WEIGHTS }, { "split", 1, 0, OPT_SPLIT },
    { "debug-nan-at-step", 1, 0, OPT_NAN }, { "target", 1, 0, OPT_TARGET },
    { "target-cut", 1, 0, OPT_TARGET_CUT }, { "init", 1, 0, OPT_INIT },
    { "brightness", 1, 0, OPT_BRIGHT }, { "contrast", 1, 0, OPT_CONTRAST }, { "shift", 1, 0, OPT_SHIFT },
    { "overlay", 1, 0, OPT_OVERLAY }, { "accumulate", 1, 0, OPT_ACCUMULATE }, { "size", 1, 0, OPT_SIZE },
    { "per-clip", 0, 0, OPT_PER_CLIP }, { "model", 1, 0, OPT_MODEL },
    { "threshold", 1, 0, OPT_THRESHOLD }, { "background", 1, 0, OPT_BACKGROUND },
    { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
};

typedef struct cli {
    const char *cmd, *pack, *out, *weights;
    vbp_train_config train;
    vbp_eval_config eval;
    vbp_track_config track;
    int split_set, json, quiet, per_clip;
    cli_bar bar;     /* within-epoch progress on a terminal */
    uint32_t bar_epoch;
} cli;

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "vbtrain: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (vbtrain --help)\n");
    return 2;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (cli_parse_u64(s, &v) || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return -1;
    *out = (float)v;
    return 0;
}

static int parse_split(const char *s, uint32_t *mask)
{
    vbp_split sp;
    if (!strcmp(s, "all")) {
        *mask = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL) | VBP_SPLIT_BIT(VBP_SPLIT_TEST);
        return 0;
    }
    if (vbp_split_parse(s, &sp))
        return -1;
    *mask = VBP_SPLIT_BIT(sp);
    return 0;
}

/* Apply one option; returns 0 or an exit code. */
static int apply(cli *c, int opt, const char *arg)
{
    vbp_train_config *t = &c->train;
    int bad = 0;
    switch (opt) {
    case OPT_MODEL:
        t->model = NULL;
        for (unsigned i = 0; i < vbp_net_model_count(); i++)
            t->model = !strcmp(arg, vbp_net_model_name(i)) ? vbp_net_model_name(i) : t->model;
        if (!t->model) {
            char fmt[256] = "unknown model '%s' (models:";
            for (unsigned i = 0; i < vbp_net_model_count(); i++)
                snprintf(fmt + strlen(fmt), sizeof fmt - strlen(fmt), " %s", vbp_net_model_name(i));
            return bad_usage(strcat(fmt, ")"), arg);
        }
        break;
    case OPT_SEQ: bad = parse_u32(arg, &t->seq); break;
    case OPT_GRAY: t->channels = 1; break;
    case OPT_RGB: t->channels = 3; break;
    case OPT_BACKGROUND:
        if (!strcmp(arg, "median")) t->background = 1;
        else if (!strcmp(arg, "none")) t->background = 0;
        else bad = 1;
        break;
    case OPT_EPOCHS: bad = parse_u32(arg, &t->epochs); break;
    case OPT_BATCH:
        bad = parse_u32(arg, &t->batch);
        c->eval.batch = c->track.batch = t->batch;
        break;
    case OPT_LR: bad = parse_float(arg, &t->lr); break;
    case OPT_LR_DECAY: bad = parse_float(arg, &t->lr_gamma); break;
    case OPT_LR_EPOCHS: bad = parse_u32(arg, &t->lr_decay_epochs); break;
    case OPT_OPTIM:
        if (!strcmp(arg, "adam")) t->optimizer = VBP_OPT_ADAM;
        else if (!strcmp(arg, "adamw")) t->optimizer = VBP_OPT_ADAMW;
        else bad = 1;
        break;
    case OPT_WD: bad = parse_float(arg, &t->weight_decay); break;
    case OPT_FLIP: bad = parse_float(arg, &t->flip); break;
    case OPT_STRIDE: bad = parse_u32(arg, &t->stride); break;
    case OPT_ORDER: bad = vbp_order_parse(arg, &t->order) != 0; break;
    case OPT_SEED: bad = cli_parse_u64(arg, &t->seed); break;
    case OPT_THREADS:
        bad = parse_u32(arg, &t->threads);
        c->eval.threads = c->track.threads = t->threads;
        break;
    case OPT_PRELOAD: t->mode = c->eval.mode = VBP_LOAD_PRELOAD; break;
    case OPT_DISK: t->mode = c->eval.mode = VBP_LOAD_DISK; break;
    case OPT_TOL: bad = parse_float(arg, &t->tol); c->eval.tol = t->tol; break;
    case OPT_THRESHOLD:
        bad = parse_float(arg, &c->eval.threshold) || !(c->eval.threshold > 0.0f) ||
              !(c->eval.threshold < 1.0f);
        c->track.threshold = c->eval.threshold;
        break;
    case OPT_CKPT: bad = cli_parse_u64(arg, &t->checkpoint_every); break;
    case OPT_STOP: bad = cli_parse_u64(arg, &t->stop_after); break;
    case OPT_NAN: bad = cli_parse_u64(arg, &t->nan_at_step); break;
    case OPT_TARGET:
        bad = vbp_target_parse(arg, &t->target) != 0 || t->target == VBP_TARGET_AUTO;
        c->eval.target = t->target;
        break;
    case OPT_TARGET_CUT:
        bad = parse_u32(arg, &t->target_cut) || t->target_cut < 1 || t->target_cut > 255;
        c->eval.target_cut = t->target_cut;
        break;
    case OPT_RESUME: t->resume = 1; break;
    case OPT_INIT: t->init = arg; break;
    case OPT_BRIGHT: bad = parse_float(arg, &t->brightness); break;
    case OPT_CONTRAST: bad = parse_float(arg, &t->contrast); break;
    case OPT_SHIFT: bad = parse_u32(arg, &t->shift); break;
    case OPT_ACCUMULATE: bad = parse_u32(arg, &t->accumulate) || !t->accumulate; break;
    case OPT_JSON: c->json = 1; break;
    case OPT_QUIET: c->quiet = 1; break;
    case OPT_PER_CLIP: c->per_clip = 1; break;
    case OPT_OUT: c->out = arg; break;
    case OPT_WEIGHTS: c->weights = arg; break;
    case OPT_OVERLAY: c->eval.overlay_dir = c->track.overlay = arg; break;
    case OPT_SIZE: {
        char tail;
        bad = sscanf(arg, "%ux%u%c", &c->track.width, &c->track.height, &tail) != 2 ||
              !c->track.width || !c->track.height || c->track.width > 16384 ||
              c->track.height > 16384;
        break;
    }
    case OPT_SPLIT: bad = parse_split(arg, &c->eval.splits); c->split_set = 1; break;
    default: return 2;
    }
    return bad ? bad_usage("invalid value '%s'", arg) : 0;
}

static void on_note(void *ctx, const char *line)
{
    cli *c = ctx;
    if (!c->quiet) {
        cli_bar_clear(&c->bar);
        fprintf(stderr, "%s\n", line);
    }
}

static void on_step(void *ctx, uint32_t epoch, uint64_t batch, uint64_t batches, double loss)
{
    cli *c = ctx;
    if (!c->bar.on)
        return;
    if (epoch != c->bar_epoch) { /* rate and ETA are per epoch */
        cli_bar_init(&c->bar, 1, "steps");
        c->bar_epoch = epoch;
    }
    char label[48], extra[32];
    snprintf(label, sizeof label, "epoch %u/%u", epoch, c->train.epochs);
    snprintf(extra, sizeof extra, "loss %.5f", loss);
    cli_bar_draw(&c->bar, label, batch, batches, extra);
}

static void on_epoch(void *ctx, const vbp_epoch_report *r)
{
    cli *c = ctx;
    cli_bar_clear(&c->bar);
    if (c->json) {
        char line[1024];
        vbp_epoch_report_json(r, line, sizeof line);
        printf("%s\n", line);
    } else {
        printf("epoch %u/%u step %" PRIu64 " lr %.3g train_loss %.5f", r->epoch, r->epochs, r->step,
               r->lr, r->train_loss);
        if (r->has_val) {
            const vbp_counts *k = &r->val.counts;
            const vbp_scores *s = &r->val.scores;
            printf(" val_loss %.5f TP %" PRIu64 " TN %" PRIu64 " FP1 %" PRIu64 " FP2 %" PRIu64
                   " FN %" PRIu64 " P %.3f R %.3f F1 %.3f Acc %.3f", r->val.loss, k->tp, k->tn,
                   k->fp1, k->fp2, k->fn, s->precision, s->recall, s->f1, s->accuracy);
        } else {
            printf(" val -");
        }
        printf(" %.1f samples/s data-wait %.1f%%%s\n", r->samples_per_s, 100.0 * r->wait_fraction,
               r->best ? " best" : "");
    }
    fflush(stdout);
}

static volatile int g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* SIGINT and SIGTERM set g_stop: the run stops cleanly (training checkpoints). */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int cmd_train(cli *c)
{
    if (!c->out)
        return bad_usage("%s needs --out RUN_DIR", "train");
    cli_bar_init(&c->bar, !c->quiet, "steps");
    vbp_train_callbacks cb = { c, on_step, on_epoch, on_note, &g_stop };
    catch_signals();
    vbp_train_summary sum;
    vbp_error err;
    int rc = vbp_train_run(c->pack, c->out, &c->train, &cb, &sum, &err);
    cli_bar_clear(&c->bar);
    const vbp_dist *d = c->train.dist;
    const int lead = !d || d->rank == 0;
    if (rc) {
        /* What all ranks agree on (another rank's failure, a stop, a non-finite loss) is printed
         * once, by rank 0; a rank's own failure by that rank. */
        int shared = rc == VBP_E_INTERRUPTED || rc == VBP_E_NUMERIC ||
                     !strncmp(vbp_error_message(&err), VBP_DIST_ECHO, strlen(VBP_DIST_ECHO));
        if (!d)
            fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&err));
        else if (lead || !shared)
            fprintf(stderr, "vbtrain (rank %d of %d): %s\n", d->rank, d->size,
                    vbp_error_message(&err));
        return rc == VBP_E_INTERRUPTED ? 130 : 1;
    }
    if (!c->quiet && lead) {
        if (sum.stopped_early)
            fprintf(stderr, "stopped after step %" PRIu64 " (--stop-after); continue with --resume\n",
                    sum.steps_done);
        fprintf(stderr, "%s: %u epoch(s), %" PRIu64 " steps; best epoch %u\n", c->out, sum.epochs_done,
                sum.steps_done, sum.best_epoch);
    }
    return 0;
}

static void print_counts(const vbp_counts *n)
{
    vbp_scores sc = vbp_counts_scores(n);
    printf("TP %" PRIu64 " TN %" PRIu64 " FP1 %" PRIu64 " FP2 %" PRIu64 " FN %" PRIu64
           " P %.4f R %.4f F1 %.4f Acc %.4f\n", n->tp, n->tn, n->fp1, n->fp2, n->fn, sc.precision,
           sc.recall, sc.f1, sc.accuracy);
}

/* The evaluation, and with pack (--per-clip) one line per evaluated clip. */
static int print_eval(const cli *c, const vbp_eval_result *e, const vbp_pack *pack)
{
    const vbp_counts *clips = c->eval.clip_counts;
    if (c->json) {
        size_t n = pack ? vbp_eval_clips_json(e, pack, clips, NULL, 0) : vbp_eval_result_json(e, NULL, 0);
        char *line = malloc(n + 1);
        if (!line) {
            fprintf(stderr, "vbtrain: out of memory\n");
            return 1;
        }
        if (pack)
            vbp_eval_clips_json(e, pack, clips, line, n + 1);
        else
            vbp_eval_result_json(e, line, n + 1);
        printf("%s\n", line);
        free(line);
        return 0;
    }
    printf("frames %" PRIu64 " (windows %" PRIu64 ") loss %.5f\n", e->frames, e->windows, e->loss);
    printf("TP %" PRIu64 " TN %" PRIu64 " FP1 %" PRIu64 " FP2 %" PRIu64 " FN %" PRIu64 "\n",
           e->counts.tp, e->counts.tn, e->counts.fp1, e->counts.fp2, e->counts.fn);
    printf("precision %.4f recall %.4f F1 %.4f accuracy %.4f (tol %.3g px, threshold %.3g)\n",
           e->scores.precision, e->scores.recall, e->scores.f1, e->scores.accuracy,
           (double)c->eval.tol, (double)e->threshold);
    if (e->skipped_clips)
        printf("%" PRIu64 " clip(s) shorter than seq frames were not predicted\n", e->skipped_clips);
    for (uint64_t i = 0; pack && i < vbp_pack_get_info(pack)->clip_count; i++) {
        const vbp_clip *k = vbp_pack_clip(pack, i);
        if (!vbp_counts_total(&clips[i]))
            continue;
        printf("clip %s%s%s (%s) frames %" PRIu64 " ", k->group, k->group[0] ? "/" : "", k->name,
               vbp_split_name(k->split), vbp_counts_total(&clips[i]));
        print_counts(&clips[i]);
    }
    return 0;
}

static int cmd_eval(cli *c, int predict)
{
    if (!c->weights)
        return bad_usage("%s needs --weights W", c->cmd);
    if (predict && !c->out)
        return bad_usage("%s needs --out DIR", c->cmd);
    if (predict && !c->split_set)
        parse_split("all", &c->eval.splits);
    vbp_eval_result res;
    vbp_error err;
    vbp_pack *pack = NULL; /* --per-clip: the clips' names and count */
    int rc = c->per_clip ? vbp_pack_open(c->pack, &pack, &err) : 0;
    if (!rc && pack) {
        c->eval.clip_count = vbp_pack_get_info(pack)->clip_count;
        c->eval.clip_counts = calloc(c->eval.clip_count ? c->eval.clip_count : 1, sizeof(vbp_counts));
        if (!c->eval.clip_counts) {
            fprintf(stderr, "vbtrain: %s: out of memory\n", c->pack);
            vbp_pack_close(pack);
            return 1;
        }
    }
    if (!rc)
        rc = predict ? vbp_predict_run(c->pack, c->weights, c->out, &c->eval, &res, &err)
                     : vbp_eval_run(c->pack, c->weights, &c->eval, &res, &err);
    if (rc)
        fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&err));
    if (!rc && predict && !c->quiet && !c->json)
        fprintf(stderr, "predictions: %s/ (%" PRIu64 " frames)%s%s\n", c->out, res.frames,
                c->eval.overlay_dir ? ", pictures: " : "", c->eval.overlay_dir ? c->eval.overlay_dir : "");
    if (!rc)
        rc = print_eval(c, &res, pack);
    free(c->eval.clip_counts);
    vbp_pack_close(pack);
    return rc ? 1 : 0;
}

#ifdef VBTRAIN_TRACK_EXEC
/*
 * This vbtrain is linked without the video code: FFmpeg's libraries (Debian's pull in about 130
 * more shared libraries) would map some 25 MB into every training, evaluation and export, and a
 * process in a tight memory cgroup would be killed while loading them.  `vbtrain track` runs
 * VBTRAIN_TRACK_EXEC, the same program with the video code, installed beside this one, with the
 * same arguments.  Returns only on failure (exit status 1, one line).
 */
static int exec_track(char **argv)
{
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash + 1 - path) + sizeof VBTRAIN_TRACK_EXEC > sizeof path) {
        fprintf(stderr, "vbtrain: track: cannot find this program's directory to run %s\n",
                VBTRAIN_TRACK_EXEC);
        return 1;
    }
    memcpy(slash + 1, VBTRAIN_TRACK_EXEC, sizeof VBTRAIN_TRACK_EXEC);
    execv(path, argv);
    fprintf(stderr, "vbtrain: track: cannot run %s: %s (installed beside vbtrain; it holds the "
            "video code)\n", path, strerror(errno));
    return 1;
}
#else
static void on_track_progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_bar_draw(&((cli *)ctx)->bar, "track", done, total, NULL);
}

/* vbtrain track VIDEO --weights W --out BALL.csv [--overlay OUT.mp4] */
static int cmd_track(cli *c, const char *video)
{
    if (!c->weights || !c->out)
        return bad_usage("%s needs --weights W and --out BALL.csv", "track");
    cli_bar_init(&c->bar, !c->quiet, "frames");
    c->track.progress = c->bar.on ? on_track_progress : NULL;
    c->track.progress_ctx = c;
    c->track.stop = &g_stop;
    catch_signals();
    vbp_track_result r;
    vbp_error err;
    int rc = vbp_track_run(video, c->weights, c->out, &c->track, &r, &err);
    cli_bar_clear(&c->bar);
    if (rc) {
        fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&err));
        return rc == VBP_E_INTERRUPTED ? 130 : 1;
    }
    double fps = r.seconds > 0 ? (double)r.frames / r.seconds : 0.0;
    double video_fps = r.fps_den ? (double)r.fps_num / r.fps_den : 0.0;
    if (c->json) {
        vbp_json j;
        vbp_json_init(&j, 1);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "video", video);
        vbp_json_kstring(&j, "csv", c->out);
        vbp_json_ku64(&j, "frames", r.frames);
        vbp_json_ku64(&j, "visible", r.visible);
        vbp_json_kdouble(&j, "threshold", r.threshold, 6);
        vbp_json_ku64(&j, "width", r.video_width);
        vbp_json_ku64(&j, "height", r.video_height);
        vbp_json_kdouble(&j, "video_fps", video_fps, 6);
        vbp_json_kdouble(&j, "seconds", r.seconds, 6);
        vbp_json_kdouble(&j, "fps", fps, 6);
        vbp_json_kdouble(&j, "decode_seconds", r.decode_seconds, 6);
        vbp_json_kdouble(&j, "net_seconds", r.net_seconds, 6);
        vbp_json_kdouble(&j, "overlay_seconds", r.overlay_seconds, 6);
        vbp_json_end_object(&j);
        vbp_json_print(&j, stdout);
    } else if (!c->quiet) {
        fprintf(stderr, "%s: %" PRIu64 " frames (%ux%u, %.6g fps), ball in %" PRIu64 ", %.2f s: "
                "%.1f frames/s (%.2fx real time; decode %.2f s, network %.2f s, overlay %.2f s)"
                " -> %s%s%s\n", video, r.frames, r.video_width, r.video_height, video_fps,
                r.visible, r.seconds, fps, video_fps > 0 ? fps / video_fps : 0.0, r.decode_seconds,
                r.net_seconds, r.overlay_seconds, c->out, c->track.overlay ? ", " : "",
                c->track.overlay ? c->track.overlay : "");
    }
    return 0;
}
#endif

/* vbtrain export --weights W -o MODEL.onnx [--height H --width W]: no pack involved. */
static int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "weights", 1, 0, 'w' }, { "out", 1, 0, 'o' }, { "height", 1, 0, 'H' },
        { "width", 1, 0, 'W' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    const char *weights = NULL, *out = NULL;
    uint32_t height = VBP_ONNX_DEFAULT_HEIGHT, width = VBP_ONNX_DEFAULT_WIDTH;
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 0;
        }
        if (opt == '?')
            return 2;
        if ((opt == 'H' && parse_u32(optarg, &height)) || (opt == 'W' && parse_u32(optarg, &width)))
            return bad_usage("invalid value '%s'", optarg);
        if (opt == 'w')
            weights = optarg;
        if (opt == 'o')
            out = optarg;
    }
    if (!weights || !out)
        return bad_usage("%s needs --weights W and -o MODEL.onnx", "export");
    if (optind != argc)
        return bad_usage("export: unexpected argument '%s'", argv[optind]);
    if (!height || !width)
        return bad_usage("%s", "export: --height and --width must be positive");
    signal(SIGXFSZ, SIG_IGN);
    vbp_error err;
    if (vbp_onnx_export(weights, height, width, out, &err)) {
        fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&err));
        return 1;
    }
    return 0;
}

/* The learning curve of a run directory (train also draws it at every epoch end). */
static int cmd_plot(const cli *c)
{
    char metrics[4096], png[4096];
    if ((size_t)snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", c->pack) >= sizeof metrics ||
        (size_t)snprintf(png, sizeof png, "%s/curve.png", c->pack) >= sizeof png)
        return bad_usage("%s: path too long", c->pack);
    vbp_error err;
    if (vbp_plot_metrics(metrics, png, &err)) {
        fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&err));
        return 1;
    }
    if (!c->quiet)
        fprintf(stderr, "%s\n", png);
    return 0;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    vbp_train_config_default(&c.train);
    vbp_eval_config_default(&c.eval);
#ifdef VBTRAIN_TRACK_EXEC
    if (argc >= 2 && !strcmp(argv[1], "track"))
        return exec_track(argv);
#else
    vbp_track_config_default(&c.track);
#endif
    if (argc < 2)
        return bad_usage("%s", "missing command");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    c.cmd = argv[1];
    if (!strcmp(c.cmd, "export"))
        return cmd_export(argc, argv);
    int kind = !strcmp(c.cmd, "train") ? 0 : !strcmp(c.cmd, "eval") ? 1 : !strcmp(c.cmd, "predict") ? 2
             : !strcmp(c.cmd, "plot") ? 3 : !strcmp(c.cmd, "track") ? 4 : -1;
    if (kind < 0)
        return bad_usage("unknown command '%s'", c.cmd);
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            return 0;
        }
        if (opt == '?')
            return 2;
        int rc = apply(&c, opt, optarg);
        if (rc)
            return rc;
    }
    if (optind != argc - 1)
        return bad_usage(kind == 3 ? "%s: expected exactly one RUN_DIR argument"
                         : kind == 4 ? "%s: expected exactly one VIDEO argument"
                                     : "%s: expected exactly one PACK argument", c.cmd);
    c.pack = argv[optind];
    if (kind == 3)
        return cmd_plot(&c);
#ifndef VBTRAIN_TRACK_EXEC
    if (kind == 4) {
        signal(SIGXFSZ, SIG_IGN);
        return cmd_track(&c, argv[optind]);
    }
#endif
    /* A full disk or RLIMIT_FSIZE is a write error (reported), not SIGXFSZ; a pack truncated
     * under us is an error line naming it, not a SIGBUS crash. */
    signal(SIGXFSZ, SIG_IGN);
    vbp_error gerr;
    if (kind != 0) {
        if (vbp_guard_enable("vbtrain", &gerr)) {
            fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&gerr));
            return 1;
        }
        return cmd_eval(&c, kind == 2);
    }
    /* Under mpirun: one rank of a data-parallel run (alone otherwise).  MPI starts before the
     * guard, so that the guard's SIGBUS handler, not one MPI may install, is in place. */
    vbp_dist dist;
    if (vbp_dist_init(&argc, &argv, &dist, &gerr)) {
        fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&gerr));
        return 1;
    }
    if (vbp_guard_enable("vbtrain", &gerr)) {
        fprintf(stderr, "vbtrain: %s\n", vbp_error_message(&gerr));
        vbp_dist_finalize(&dist);
        return 1;
    }
    if (dist.size > 1) {
        c.train.dist = &dist;
        if (dist.rank != 0) /* rank 0 reports; the others print only their own errors */
            c.quiet = 1, c.json = 0;
    }
    int rc = cmd_train(&c);
    vbp_dist_finalize(&dist);
    return rc;
}

/*
 * train.c - the training loop: epochs over the train split, validation,
 * checkpoints (last, best, state), resumption and the NaN stop.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "arch.h"
#include "internal.h"
#include "atomic.h"
#include "train_internal.h"
#include "step.h"

#define PATH_LEN 4096

void vbp_train_config_default(vbp_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seq = 3;
    cfg->batch = 4;
    cfg->lr = 1e-3f;
    cfg->lr_gamma = 0.9f;
    cfg->lr_decay_epochs = 2;
    cfg->optimizer = VBP_OPT_ADAM;
    cfg->flip = 0.5f;
    cfg->stride = 1;
    cfg->order = VBP_ORDER_AUTO;
    cfg->epochs = 1;
    cfg->loader_threads = 1;
    cfg->mode = VBP_LOAD_DISK;
    cfg->tol = 4.0f;
}

typedef struct run {
    const vbp_train_config *cfg;
    const vbp_train_callbacks *cb;
    const char *pack_path;
    char last_w[PATH_LEN], last_s[PATH_LEN], best_w[PATH_LEN], metrics[PATH_LEN], curve[PATH_LEN];
    vbp_pack *pack;
    vbp_loader *train, *val;
    vbp_net *net;
    vbp_adam_config adam;
    vbp_train_state st;
    int64_t saved_step;      /* step of the last state written or loaded; -1 none */
    const vbp_dist *dist;    /* NULL when alone */
    const char *model;       /* the architecture (run_model) */
    int lead;                /* rank 0 (or alone): validates, writes run_dir, reports */
    vbp_stepper step;
    uint32_t channels;
    vbp_target ld_target;    /* targets the train loader was opened with */
    uint32_t ld_cut;
    vbp_memlimit limit;      /* what the process may use, read before the run allocated anything */
    struct needs {           /* what the run allocates for itself (plan_memory) */
        uint64_t net;        /* network (vbp_net_memory_bytes) and gradient exchange */
        uint64_t train, val; /* the loaders' buffers (vbp_loader_buffer_bytes) */
    } need;
} run;

static void note(const run *r, const char *fmt, ...) VBP_PRINTF(2, 3);
static void note(const run *r, const char *fmt, ...)
{
    if (!r->lead || !r->cb || !r->cb->on_note)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->cb->on_note(r->cb->ctx, line);
}

static int check_config(const vbp_train_config *c, vbp_error *err)
{
    if (!c->seq || !c->batch || !c->epochs || !c->stride)
        return vbp_fail(err, VBP_E_ARG, "seq, batch, epochs and stride must be at least 1");
    uint64_t parts = (uint64_t)(c->accumulate ? c->accumulate : 1) * (c->dist ? c->dist->size : 1);
    if (parts > c->batch)
        return vbp_fail(err, VBP_E_ARG, "batch %u is smaller than ranks x accumulate (%llu): every "
                        "part needs a sample", c->batch, (unsigned long long)parts);
    if (c->background > 1)
        return vbp_fail(err, VBP_E_ARG, "background must be 0 (off) or 1 (the median frame)");
    if (c->channels != 0 && c->channels != 1 && c->channels != 3)
        return vbp_fail(err, VBP_E_ARG, "channels must be 1 (grayscale) or 3 (RGB)");
    if (!(c->lr > 0.0f) || !isfinite(c->lr) || !(c->lr_gamma > 0.0f) || !isfinite(c->lr_gamma))
        return vbp_fail(err, VBP_E_ARG, "learning rate and its decay must be positive and finite");
    if (!(c->flip >= 0.0f && c->flip <= 1.0f))
        return vbp_fail(err, VBP_E_ARG, "flip probability must be in [0, 1]");
    if (!(c->brightness >= 0.0f && c->brightness <= 1.0f) ||
        !(c->contrast >= 0.0f && c->contrast <= 1.0f) || c->shift > 1024)
        return vbp_fail(err, VBP_E_ARG, "brightness and contrast must be in [0, 1], shift at most 1024");
    if ((unsigned)c->target > VBP_TARGET_BINARY || c->target_cut > 255)
        return vbp_fail(err, VBP_E_ARG, "target must be soft or binary, its cut in 1..255");
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay) || !(c->tol >= 0.0f))
        return vbp_fail(err, VBP_E_ARG, "weight decay and tolerance must be >= 0");
    return VBP_OK;
}

static int join(char *out, const char *dir, const char *name, vbp_error *err)
{
    int n = snprintf(out, PATH_LEN, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_LEN - 32)
        return vbp_fail(err, VBP_E_ARG, "%s: path too long", dir);
    return VBP_OK;
}

static void train_loader_opts(const run *r, uint32_t channels, vbp_order order, uint32_t batch,
                              vbp_loader_opts *o)
{
    vbp_loader_opts_default(o);
    o->seq = r->cfg->seq;
    o->stride = r->cfg->stride;
    o->channels = channels;
    o->splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN);
    o->mode = r->cfg->mode;
    o->order = order;
    o->seed = r->cfg->seed;
    o->flip_prob = r->cfg->flip;
    o->brightness = r->cfg->brightness;
    o->contrast = r->cfg->contrast;
    o->shift = r->cfg->shift;
    o->background = r->cfg->background;
    o->target = r->st.target;
    o->target_cut = r->st.target_cut;
    o->batch = batch;
    o->threads = r->cfg->loader_threads;
    if (r->dist) { /* this rank assembles its slice of every global batch */
        o->part = (uint32_t)r->dist->rank;
        o->parts = (uint32_t)r->dist->size;
    }
    o->reserve_bytes = r->need.net + r->need.val; /* kept out of the pack's share */
    o->limit = &r->limit;
}

static int open_train_loader(run *r, uint32_t channels, vbp_order order, vbp_error *err)
{
    vbp_loader_opts o;
    train_loader_opts(r, channels, order, r->cfg->batch, &o);
    r->ld_target = o.target;
    r->ld_cut = o.target_cut;
    vbp_loader_close(r->train);
    r->train = NULL;
    return vbp_loader_open(r->pack, &o, &r->train, err);
}

/* Options of the val loader: batches of the net's arena (a part of a batch under MPI or
 * --accumulate), the train loader's mode (a preload that did not fit is not tried again). */
static void val_loader_opts(const run *r, uint32_t channels, uint32_t max_batch, vbp_load_mode mode,
                            vbp_loader_opts *o)
{
    vbp_eval_loader_opts(o, r->cfg->seq, channels, max_batch, VBP_SPLIT_BIT(VBP_SPLIT_VAL), mode,
                         r->st.target, r->st.target_cut);
    o->background = r->cfg->background;
    o->reserve_bytes = r->need.net + r->need.train;
    o->limit = &r->limit;
}

/* Val loader, or none (with a note) when the pack has no usable val split. */
static int open_val_loader(run *r, uint32_t channels, vbp_error *err)
{
    const vbp_pack_info *info = vbp_pack_get_info(r->pack);
    if (!info->clips_per_split[VBP_SPLIT_VAL]) {
        note(r, "%s: no val split (pack with --val NAME): val metrics skipped", r->pack_path);
        return VBP_OK;
    }
    vbp_error e;
    vbp_loader_close(r->val);
    r->val = NULL;
    vbp_loader_opts o;
    val_loader_opts(r, channels, vbp_net_get_config(r->net)->max_batch,
                    vbp_loader_get_shape(r->train)->mode, &o);
    int rc = vbp_loader_open(r->pack, &o, &r->val, &e);
    if (rc == VBP_E_GEOMETRY) {
        note(r, "%s: no val clip has %u frames: val metrics skipped", r->pack_path, r->cfg->seq);
        return VBP_OK;
    }
    if (rc && err)
        *err = e;
    return rc;
}

static void net_config(const run *r, uint32_t channels, uint32_t batch, vbp_net_config *nc)
{
    const vbp_geometry *g = &vbp_pack_get_info(r->pack)->geometry;
    vbp_net_config c = { (r->cfg->seq + r->cfg->background) * channels, r->cfg->seq, g->height,
                         g->width,
                         vbp_step_max_part(batch, r->dist, r->cfg->accumulate), r->cfg->threads,
                         r->model };
    *nc = c;
}

/*
 * What a run with global batch `batch` allocates for itself, the pack aside:
 * `net` (or, when NULL, a network created for the purpose: its arena is
 * allocated but never touched, so it costs no memory) and the gradient
 * exchange, and the train and val loaders' buffers.  VBP_E_NOMEM (and the
 * like) when that network cannot even be created.
 */
/* The train and val loaders' buffers for a global batch of `batch` (no allocation). */
static void loader_needs(const run *r, uint32_t channels, uint32_t batch, struct needs *out)
{
    vbp_loader_opts o;
    train_loader_opts(r, channels, r->cfg->order, batch, &o);
    out->train = vbp_loader_buffer_bytes(r->pack, &o);
    out->val = 0;
    if (r->lead && vbp_pack_get_info(r->pack)->clips_per_split[VBP_SPLIT_VAL]) {
        val_loader_opts(r, channels, vbp_step_max_part(batch, r->dist, r->cfg->accumulate),
                        r->cfg->mode, &o);
        out->val = vbp_loader_buffer_bytes(r->pack, &o);
    }
}

/* The network's bytes (vbp_net_memory_bytes) and the gradient exchange's. */
static uint64_t net_needs(const run *r, const vbp_net *net)
{
    return vbp_net_memory_bytes(net) + vbp_stepper_bytes(net, r->dist, r->cfg->accumulate);
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

/*
 * What a run with global batch b allocates for itself, the pack aside, as
 * a line: network(part) = one + (part - 1) * slope, the network's bytes
 * for this rank's largest part of the batch (the activation arena grows
 * linearly with it), plus the loaders' buffers.  Measured on networks of
 * one and two samples, so that a network too large for the limit is never
 * allocated (an allocator that fills memory, as glibc with MALLOC_PERTURB_,
 * would touch it all).
 */
typedef struct net_line {
    uint64_t one, slope;
} net_line;

static int measure_line(const run *r, uint32_t channels, net_line *out, vbp_error *err)
{
    const uint32_t parts = (uint32_t)((r->dist ? r->dist->size : 1) *
                                      (r->cfg->accumulate ? r->cfg->accumulate : 1));
    uint64_t m[2];
    for (int k = 0; k < 2; k++) {
        vbp_net_config nc;
        vbp_net *net;
        net_config(r, channels, (uint32_t)(k + 1) * parts, &nc);
        int rc = vbp_net_create(&nc, 0, &net, err);
        if (rc)
            return rc;
        m[k] = net_needs(r, net);
        vbp_net_free(net);
    }
    out->one = m[0];
    out->slope = m[1] > m[0] ? m[1] - m[0] : 0;
    return VBP_OK;
}

static uint64_t line_needs(const run *r, uint32_t channels, const net_line *l, uint32_t batch,
                           struct needs *out)
{
    out->net = l->one + (vbp_step_max_part(batch, r->dist, r->cfg->accumulate) - 1) * l->slope;
    loader_needs(r, channels, batch, out);
    return out->net + out->train + out->val;
}

/* The largest global batch below cfg->batch whose needs and spare fit in `may`; 0 when none. */
static uint32_t batch_that_fits(const run *r, uint32_t channels, const net_line *l, uint64_t may,
                                uint64_t spare)
{
    uint32_t lo = (uint32_t)((r->dist ? r->dist->size : 1) * (r->cfg->accumulate ? r->cfg->accumulate : 1));
    uint32_t hi = r->cfg->batch - 1, fit = 0; /* a batch has at least one sample per part */
    while (lo <= hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        struct needs n;
        if (line_needs(r, channels, l, mid, &n) + spare <= may) {
            fit = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return fit;
}

/*
 * Check what the run allocates for itself against what this process may use
 * (vbp_memlimit_read: MemAvailable, the cgroup, the rlimits), read before it
 * allocated anything, then create the network; all before anything is loaded
 * or written.  Needs that do not fit stop the run: VBP_E_NOMEM, one line with
 * the figures, the limit that applies and the largest --batch that fits with
 * its buffers and room to spare (vbp_memlimit_spare); needs that fit without
 * that room are a warning note.  Sets r->net, r->limit and r->need (which the
 * loaders keep out of the pack's share).
 */
static int plan_memory(run *r, uint32_t channels, vbp_error *err)
{
    const vbp_train_config *cfg = r->cfg;
    const uint64_t may = vbp_memlimit_read(NULL, &r->limit), spare = vbp_memlimit_spare(may);
    const int limited = r->limit.source != VBP_MEMLIMIT_NONE;
    net_line line;
    int rc = measure_line(r, channels, &line, err);
    if (rc)
        return rc;
    uint64_t total = line_needs(r, channels, &line, cfg->batch, &r->need);
    vbp_net_config nc;
    net_config(r, channels, cfg->batch, &nc);
    if (!limited || total <= may) {
        rc = vbp_net_create(&nc, cfg->seed, &r->net, err);
        if (rc)
            return rc;
        r->need.net = net_needs(r, r->net); /* the line's figure, now exact */
        total = r->need.net + r->need.train + r->need.val;
    }
    if (!limited || total + spare <= may)
        return VBP_OK;
    char src[640], what[200], hint[64];
    vbp_memlimit_describe(&r->limit, r->limit.source, src, sizeof src);
    snprintf(what, sizeof what, "training needs %.1f MiB (network and optimizer %.1f MiB for %u "
             "samples at a time, batch buffers %.1f MiB)", mib(total), mib(r->need.net),
             nc.max_batch, mib(r->need.train + r->need.val));
    uint32_t fit = batch_that_fits(r, channels, &line, may, spare);
    if (fit)
        snprintf(hint, sizeof hint, "--batch %u would fit", fit);
    else
        snprintf(hint, sizeof hint, "not even the smallest batch fits");
    /* The source last: a long cgroup path is what a cut at VBP_ERROR_DETAIL_MAX takes. */
    if (total > may)
        return vbp_fail(err, VBP_E_NOMEM, "%s: %s, but this process may use %.1f MiB: %s (%s)",
                        r->pack_path, what, mib(may), hint, src);
    note(r, "%s: warning: %s and %.1f MiB to spare, more than the %.1f MiB this process may use: "
         "it may be killed; %s (%s)", r->pack_path, what, mib(spare), mib(may), hint, src);
    return VBP_OK;
}

/*
 * Keep the lines of metrics.jsonl of epochs <= done: a run stopped after
 * writing a line but before its state may have left lines that the resumed
 * run writes again.
 */
static int trim_metrics(const char *path, uint64_t done, vbp_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return VBP_OK;
    char *out = NULL, line[4096];
    size_t len = 0, cap = 0;
    int rc = VBP_OK;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"epoch\":");
        if (p && strtoull(p + 8, NULL, 10) > done)
            continue;
        size_t n = strlen(line);
        if (len + n > cap) {
            cap = 2 * (len + n);
            char *grown = realloc(out, cap);
            if (!grown) {
                rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
                break;
            }
            out = grown;
        }
        memcpy(out + len, line, n);
        len += n;
    }
    fclose(f);
    if (!rc)
        rc = vbp_atomic_write_file(path, out ? out : "", len, err);
    free(out);
    return rc;
}

static int append_line(const char *path, const char *line, vbp_error *err)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open: %s", path, strerror(errno));
    int bad = fputs(line, f) < 0 || fputc('\n', f) == EOF || fflush(f) || fsync(fileno(f));
    int e = errno;
    if (fclose(f) || bad)
        return vbp_fail(err, VBP_E_IO, "%s: cannot write: %s", path, strerror(e));
    return VBP_OK;
}

static int params_finite(vbp_net *net)
{
    const float *p = vbp_net_params(net);
    for (size_t i = 0, n = vbp_net_param_count(net); i < n; i++)
        if (!isfinite(p[i]))
            return 0;
    return 1;
}

static int numeric_stop(const run *r, const char *what, vbp_error *err)
{
    char kept[PATH_LEN + 64];
    if (r->saved_step >= 0)
        snprintf(kept, sizeof kept, "last good checkpoint %s (step %" PRId64 ")", r->last_s, r->saved_step);
    else
        snprintf(kept, sizeof kept, "no checkpoint was written");
    return vbp_fail(err, VBP_E_NUMERIC, "%s: step %" PRIu64 " (epoch %" PRIu64 ", batch %" PRIu64
                    "): %s; stopped, %s", r->pack_path, r->st.step + 1, r->st.epoch + 1, r->st.batch + 1,
                    what, kept);
}

/* last.safetensors then last.state (the state last: it is what --resume trusts). */
static int save_checkpoint(run *r, vbp_error *err)
{
    if (!params_finite(r->net))
        return numeric_stop(r, "parameters are not finite", err);
    int rc = vbp_net_save_safetensors(r->net, r->last_w, err);
    if (!rc)
        rc = vbp_state_save(r->last_s, r->net, r->cfg, &r->st, err);
    if (!rc)
        r->saved_step = (int64_t)r->st.step;
    return rc;
}

static int better(const run *r, double score, double loss)
{
    return !r->st.best_epoch || score > r->st.best_score ||
           (score == r->st.best_score && loss < r->st.best_loss);
}

/* Validation, best.safetensors, the metrics line and the checkpoint of an epoch's end. */
static int end_epoch(run *r, double train_seconds, double wait_seconds, uint64_t samples,
                     double lr, vbp_error *err)
{
    vbp_epoch_report rep;
    memset(&rep, 0, sizeof rep);
    rep.epoch = (uint32_t)r->st.epoch + 1;
    rep.epochs = r->cfg->epochs;
    rep.step = r->st.step;
    rep.lr = lr;
    rep.train_loss = r->st.loss_samples ? r->st.loss_sum / (double)r->st.loss_samples : 0.0;
    rep.samples_per_s = train_seconds > 0.0 ? (double)samples / train_seconds : 0.0;
    rep.wait_fraction = train_seconds > 0.0 ? wait_seconds / train_seconds : 0.0;
    int rc = VBP_OK;
    if (r->val) {
        rep.has_val = 1;
        rc = vbp_evaluate(r->net, r->val, r->cfg->tol, VBP_DETECT_THRESHOLD, NULL, NULL, &rep.val, err);
        if (rc)
            return rc;
    }
    rep.seconds = train_seconds + rep.val.seconds;
    double score = rep.has_val ? rep.val.scores.f1 : -rep.train_loss;
    double loss = rep.has_val ? rep.val.loss : rep.train_loss;
    if (!params_finite(r->net))
        return numeric_stop(r, "parameters are not finite", err);
    if (better(r, score, loss)) {
        rc = vbp_net_save_safetensors(r->net, r->best_w, err);
        if (rc)
            return rc;
        r->st.best_score = score;
        r->st.best_loss = loss;
        r->st.best_epoch = rep.epoch;
        rep.best = 1;
    }
    char line[1024];
    vbp_epoch_report_json(&rep, line, sizeof line);
    rc = append_line(r->metrics, line, err);
    vbp_error perr;
    if (!rc && vbp_plot_metrics(r->metrics, r->curve, &perr)) /* a picture: not worth stopping for */
        note(r, "%s", vbp_error_message(&perr));
    /* The position after this epoch: the next one, from its first batch. */
    r->st.epoch++;
    r->st.batch = 0;
    r->st.loss_sum = 0.0;
    r->st.loss_samples = 0;
    if (!rc)
        rc = save_checkpoint(r, err);
    if (!rc && r->cb && r->cb->on_epoch)
        r->cb->on_epoch(r->cb->ctx, &rep);
    return rc;
}

/*
 * The result of work rank 0 did alone (an epoch's end, the setup) for every
 * rank: its rc, then its position (epoch, best so far) and its network, so
 * that all ranks continue from the same state whatever they did before.
 */
static int share_lead_state(run *r, int rc, vbp_error *err)
{
    if (!r->dist)
        return rc;
    rc = vbp_dist_lead_rc(r->dist, rc, err);
    if (!rc)
        rc = r->dist->bcast(r->dist->ctx, &r->st, sizeof r->st, 0, err);
    if (!rc)
        rc = vbp_dist_bcast_net(r->dist, r->net, err);
    return rc;
}

/* Train from r->st to the end (or to stop_after).  *stopped = 1 when stop_after hit. */
static int train_epochs(run *r, int *stopped, vbp_error *err)
{
    const vbp_train_config *cfg = r->cfg;
    const uint64_t batches = vbp_loader_get_shape(r->train)->batches;
    const uint64_t per_decay = (uint64_t)cfg->lr_decay_epochs * batches;
    double lr = cfg->lr;
    *stopped = 0;
    while (r->st.epoch < cfg->epochs) {
        int rc = vbp_dist_agree(r->dist, vbp_loader_begin_epoch(r->train, r->st.epoch, r->st.batch,
                                                                err), err);
        if (rc)
            return rc;
        double t0 = vbp_now(), w0 = vbp_loader_wait_seconds(r->train);
        uint64_t samples = 0;
        vbp_batch b;
        while ((rc = vbp_loader_next(r->train, &b, err)) != 0) {
            /* step.c: this rank's slice; its failure is every rank's (no one waits forever) */
            lr = vbp_lr_staircase(cfg->lr, cfg->lr_gamma, r->st.step, per_decay);
            vbp_step_io io = { rc > 0 ? &b : NULL, rc < 0 ? rc : 0, lr,
                               cfg->nan_at_step && r->st.step + 1 == cfg->nan_at_step,
                               r->cb && r->cb->stop && *r->cb->stop, 0.0f, 0 };
            rc = vbp_step_run(&r->step, &r->adam, &io, err);
            if (rc)
                return rc;
            const float loss = io.loss;
            if (!isfinite(loss))
                return numeric_stop(r, isnan(loss) ? "loss is NaN" : "loss is infinite", err);
            r->st.step++;
            r->st.batch++;
            r->st.loss_sum += (double)loss * (double)b.batch_n;
            r->st.loss_samples += b.batch_n;
            samples += b.batch_n;
            if (r->lead && r->cb && r->cb->on_step)
                r->cb->on_step(r->cb->ctx, (uint32_t)r->st.epoch + 1, r->st.batch, batches, loss);
            int stop = cfg->stop_after && r->st.step >= cfg->stop_after;
            /* alone: the flag as the step's callback left it; ranks: as agreed in the step */
            int interrupted = r->dist ? io.any_stop : r->cb && r->cb->stop && *r->cb->stop;
            if (stop || interrupted ||
                (cfg->checkpoint_every && r->st.step % cfg->checkpoint_every == 0)) {
                rc = vbp_dist_lead_rc(r->dist, r->lead ? save_checkpoint(r, err) : VBP_OK, err);
                if (rc)
                    return rc;
            }
            if (interrupted)
                return vbp_fail(err, VBP_E_INTERRUPTED, "%s: interrupted after step %" PRIu64
                                "; saved %s: --resume continues", r->pack_path, r->st.step, r->last_s);
            if (stop) {
                *stopped = 1;
                return VBP_OK;
            }
        }
        if (rc < 0)
            return rc;
        double t = vbp_now() - t0;
        rc = vbp_dist_check_same(r->dist, r->net, err); /* the ranks stayed identical */
        if (rc)
            return rc;
        rc = r->lead ? end_epoch(r, t, vbp_loader_wait_seconds(r->train) - w0, samples, lr, err)
                     : VBP_OK;
        rc = share_lead_state(r, rc, err);
        if (rc)
            return rc;
    }
    return VBP_OK;
}

/* Fine-tuning: the weights (and BatchNorm statistics) of cfg->init, checked as eval checks them. */
static int init_weights(run *r, uint32_t channels, vbp_error *err)
{
    vbp_net_config wc;
    memset(&wc, 0, sizeof wc);
    uint32_t ch, bg;
    int rc = vbp_weights_net(r->cfg->init, &wc, &ch, &bg, err);
    if (rc)
        return rc;
    if (wc.out_channels != r->cfg->seq || ch != channels || bg != r->cfg->background)
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: weights for seq %u and %u channel(s)%s, this "
                        "run trains seq %u and %u channel(s)%s", r->cfg->init, wc.out_channels, ch,
                        bg ? " with a background frame" : "", r->cfg->seq, channels,
                        r->cfg->background ? " with a background frame" : "");
    rc = vbp_net_load_safetensors(r->net, r->cfg->init, err);
    if (!rc)
        note(r, "starting from %s", r->cfg->init);
    return rc;
}

/*
 * The architecture of this run: --model; else that of --resume's checkpoint or --init's
 * weights; else the default.  --model naming another architecture than the checkpoint's or
 * the weights' is an error.  Every rank reads the same files (run_dir is shared).
 */
static int run_model(run *r, const char **model, vbp_error *err)
{
    const vbp_train_config *cfg = r->cfg;
    *model = cfg->model;
    const char *from = cfg->resume ? r->last_s : cfg->init;
    if (!from)
        return VBP_OK;
    const char *found;
    int rc = cfg->resume ? vbp_state_model(from, &found, err) : VBP_OK;
    vbp_net_config wc;
    memset(&wc, 0, sizeof wc);
    uint32_t ch, bg;
    if (!cfg->resume)
        rc = vbp_weights_net(from, &wc, &ch, &bg, err), found = wc.model;
    if (rc)
        return rc;
    if (cfg->model && strcmp(cfg->model, found))
        return vbp_fail(err, VBP_E_ARG, "%s: a %s network, this run asks for --model %s", from,
                        found, cfg->model);
    *model = found;
    return VBP_OK;
}

/* Reopen the loaders when r->st (loaded or received) has another target or order than they have. */
static int adopt_state(run *r, vbp_error *err)
{
    int new_target = r->st.target != r->ld_target || r->st.target_cut != r->ld_cut;
    if (!new_target && r->st.order == vbp_loader_get_shape(r->train)->order)
        return VBP_OK;
    int rc = open_train_loader(r, r->channels, r->st.order, err);
    if (!rc && new_target && r->val)
        rc = open_val_loader(r, r->channels, err);
    return rc;
}

/* Open pack, loaders and net; load the state when resuming (rank 0). */
static int setup(run *r, const char *run_dir, vbp_error *err)
{
    const vbp_train_config *cfg = r->cfg;
    int rc = join(r->last_w, run_dir, "last.safetensors", err);
    if (!rc)
        rc = join(r->last_s, run_dir, "last.state", err);
    if (!rc)
        rc = join(r->best_w, run_dir, "best.safetensors", err);
    if (!rc)
        rc = join(r->metrics, run_dir, "metrics.jsonl", err);
    if (!rc)
        rc = join(r->curve, run_dir, "curve.png", err);
    if (rc)
        return rc;
    int have_state = access(r->last_s, F_OK) == 0;
    if (r->lead && cfg->resume && !have_state)
        return vbp_fail(err, VBP_E_IO, "%s: no checkpoint to resume from", r->last_s);
    if (r->lead && !cfg->resume && have_state)
        return vbp_fail(err, VBP_E_EXISTS, "%s exists: add --resume to continue that run, or choose "
                        "another --out", r->last_s);
    rc = vbp_pack_open(r->pack_path, &r->pack, err);
    if (rc)
        return rc;
    const vbp_pack_info *info = vbp_pack_get_info(r->pack);
    uint32_t channels = cfg->channels ? cfg->channels : info->geometry.frame_channels;
    r->st.target = cfg->target ? cfg->target : VBP_TRAIN_TARGET_DEFAULT;
    r->st.target_cut = cfg->target_cut ? cfg->target_cut : VBP_TARGET_CUT_DEFAULT;
    r->channels = channels;
    rc = run_model(r, &r->model, err);
    if (!rc && cfg->background && vbp_arch_find(r->model) && vbp_arch_find(r->model)->motion)
        rc = vbp_fail(err, VBP_E_ARG, "%s takes no background frame (its motion prompt reads the "
                      "window's frames): --background is for VballNetFastV1", r->model);
    if (!rc)
        rc = plan_memory(r, channels, err); /* before anything in run_dir is touched */
    if (rc)
        return rc;
    /* A run killed while writing leaves FILE.tmp.<pid> (atomic.h): clean up, best effort. */
    const char *written[] = {r->last_w, r->last_s, r->best_w, r->metrics, r->curve};
    for (size_t i = 0; r->lead && i < sizeof written / sizeof written[0]; i++)
        (void)vbp_temp_sweep(written[i], NULL, NULL, NULL);
    rc = open_train_loader(r, channels, cfg->order, err);
    if (!rc && cfg->mode == VBP_LOAD_PRELOAD) /* populated and locked, or why not */
        note(r, "%s", vbp_loader_note(r->train));
    if (!rc)
        rc = vbp_stepper_init(&r->step, r->net, r->dist, cfg->accumulate, err);
    if (!rc && r->lead) /* only rank 0 validates */
        rc = open_val_loader(r, channels, err);
    if (rc)
        return rc;
    vbp_adam_defaults(&r->adam);
    r->adam.weight_decay = cfg->weight_decay;
    r->adam.decoupled = cfg->optimizer == VBP_OPT_ADAMW;
    r->st.best_score = -INFINITY;
    r->st.best_loss = INFINITY;
    r->st.pack_fingerprint = info->fingerprint;
    r->st.order = vbp_loader_get_shape(r->train)->order;
    r->saved_step = -1;
    if (!r->lead) /* rank 0 reads and writes run_dir; the others take its state (share_lead_state) */
        return VBP_OK;
    if (cfg->init && !cfg->resume) {
        rc = init_weights(r, channels, err);
        if (rc)
            return rc;
    }
    if (mkdir(run_dir, 0755) && errno != EEXIST)
        return vbp_fail(err, VBP_E_IO, "%s: cannot create directory: %s", run_dir, strerror(errno));
    if (!cfg->resume)
        return trim_metrics(r->metrics, 0, err);
    rc = vbp_state_load(r->last_s, r->net, cfg, info->fingerprint, &r->st, err);
    if (rc)
        return rc;
    r->saved_step = (int64_t)r->st.step;
    rc = adopt_state(r, err);
    if (rc)
        return rc;
    note(r, "resuming %s: epoch %" PRIu64 ", batch %" PRIu64 ", step %" PRIu64, r->last_s,
         r->st.epoch + 1, r->st.batch, r->st.step);
    return trim_metrics(r->metrics, r->st.epoch, err);
}

int vbp_train_run(const char *pack_path, const char *run_dir, const vbp_train_config *cfg,
                  const vbp_train_callbacks *cb, vbp_train_summary *summary, vbp_error *err)
{
    int rc = check_config(cfg, err);
    if (rc)
        return rc;
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.cb = cb;
    r.pack_path = pack_path;
    r.dist = cfg->dist && cfg->dist->size > 1 ? cfg->dist : NULL;
    r.lead = !r.dist || r.dist->rank == 0;
    int stopped = 0;
    rc = setup(&r, run_dir, err);
    if (r.dist) { /* every rank set up, then all take rank 0's state */
        rc = vbp_dist_agree(r.dist, rc, err);
        if (!rc)
            rc = share_lead_state(&r, VBP_OK, err);
        if (!rc && !r.lead)
            rc = adopt_state(&r, err);
        rc = vbp_dist_agree(r.dist, rc, err);
    }
    if (!rc && r.st.epoch >= cfg->epochs)
        note(&r, "%s: already trained %" PRIu64 " epoch(s); raise --epochs to continue", run_dir, r.st.epoch);
    if (!rc)
        rc = train_epochs(&r, &stopped, err);
    if (summary) {
        summary->epochs_done = (uint32_t)r.st.epoch;
        summary->steps_done = r.st.step;
        summary->stopped_early = stopped;
        summary->best_score = r.st.best_score;
        summary->best_epoch = r.st.best_epoch;
    }
    vbp_loader_close(r.train);
    vbp_loader_close(r.val);
    vbp_stepper_free(&r.step);
    vbp_net_free(r.net);
    vbp_pack_close(r.pack);
    return rc;
}

/* Counts and scores ("tp" .. "accuracy"), inside an open object. */
static void counts_json(vbp_json *j, const vbp_counts *c, const vbp_scores *sc)
{
    vbp_json_ku64(j, "tp", c->tp);
    vbp_json_ku64(j, "tn", c->tn);
    vbp_json_ku64(j, "fp1", c->fp1);
    vbp_json_ku64(j, "fp2", c->fp2);
    vbp_json_ku64(j, "fn", c->fn);
    vbp_json_kdouble(j, "precision", sc->precision, 6);
    vbp_json_kdouble(j, "recall", sc->recall, 6);
    vbp_json_kdouble(j, "f1", sc->f1, 6);
    vbp_json_kdouble(j, "accuracy", sc->accuracy, 6);
}

/* The fields of an eval result, inside an open object. */
static void eval_json(vbp_json *j, const vbp_eval_result *e)
{
    vbp_json_ku64(j, "skipped_clips", e->skipped_clips);
    vbp_json_kdouble(j, "loss", e->loss, 6);
    vbp_json_ku64(j, "windows", e->windows);
    vbp_json_ku64(j, "frames", e->frames);
    counts_json(j, &e->counts, &e->scores);
    vbp_json_kdouble(j, "seconds", e->seconds, 6);
    vbp_json_kdouble(j, "threshold", e->threshold, 6);
}

/* Copy j's text into buf like snprintf (returns the length it needed) and free j. */
static size_t json_out(vbp_json *j, char *buf, size_t size)
{
    const char *t = vbp_json_text(j);
    size_t n = t ? strlen(t) : 0;
    if (size)
        snprintf(buf, size, "%s", t ? t : "");
    vbp_json_free(j);
    return n;
}

size_t vbp_eval_result_json(const vbp_eval_result *e, char *buf, size_t size)
{
    vbp_json j;
    vbp_json_init(&j, 0);
    vbp_json_begin_object(&j);
    eval_json(&j, e);
    vbp_json_end_object(&j);
    return json_out(&j, buf, size);
}

size_t vbp_eval_clips_json(const vbp_eval_result *e, const vbp_pack *pack,
                           const vbp_counts *clip_counts, char *buf, size_t size)
{
    vbp_json j;
    vbp_json_init(&j, 0);
    vbp_json_begin_object(&j);
    eval_json(&j, e);
    vbp_json_key(&j, "clips");
    vbp_json_begin_array(&j);
    for (uint64_t i = 0; i < vbp_pack_get_info(pack)->clip_count; i++) {
        const vbp_clip *c = vbp_pack_clip(pack, i);
        const vbp_counts *n = &clip_counts[i];
        if (!vbp_counts_total(n))
            continue;
        char name[2 * VBP_NAME_MAX];
        snprintf(name, sizeof name, "%s%s%s", c->group, c->group[0] ? "/" : "", c->name);
        vbp_scores sc = vbp_counts_scores(n);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "clip", name);
        vbp_json_kstring(&j, "split", vbp_split_name(c->split));
        vbp_json_ku64(&j, "frames", vbp_counts_total(n));
        counts_json(&j, n, &sc);
        vbp_json_end_object(&j);
    }
    vbp_json_end_array(&j);
    vbp_json_end_object(&j);
    return json_out(&j, buf, size);
}

size_t vbp_epoch_report_json(const vbp_epoch_report *r, char *buf, size_t size)
{
    vbp_json j;
    vbp_json_init(&j, 0);
    vbp_json_begin_object(&j);
    vbp_json_ku64(&j, "epoch", r->epoch);
    vbp_json_ku64(&j, "epochs", r->epochs);
    vbp_json_ku64(&j, "step", r->step);
    vbp_json_kdouble(&j, "lr", r->lr, 6);
    vbp_json_kdouble(&j, "train_loss", r->train_loss, 6);
    vbp_json_key(&j, "val");
    if (r->has_val) {
        vbp_json_begin_object(&j);
        eval_json(&j, &r->val);
        vbp_json_end_object(&j);
    } else
        vbp_json_null(&j);
    vbp_json_kdouble(&j, "samples_per_s", r->samples_per_s, 6);
    vbp_json_kdouble(&j, "data_wait", r->wait_fraction, 6);
    vbp_json_kdouble(&j, "seconds", r->seconds, 6);
    vbp_json_kbool(&j, "best", r->best);
    vbp_json_end_object(&j);
    return json_out(&j, buf, size);
}

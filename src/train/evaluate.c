/*
 * evaluate.c - inference over every window of a split selection: loss,
 * per-frame detection metrics, and the prediction CSVs.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"
#include "atomic.h"
#include "train_internal.h"
#include "vbp_names.h"
#include "vbp_safetensors.h"

void vbp_eval_config_default(vbp_eval_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->splits = VBP_SPLIT_BIT(VBP_SPLIT_VAL);
    cfg->tol = 4.0f;
    cfg->batch = 4;
    cfg->mode = VBP_LOAD_DISK;
}

void vbp_eval_loader_opts(vbp_loader_opts *o, uint32_t seq, uint32_t channels, uint32_t batch,
                          uint32_t splits, vbp_load_mode mode, vbp_target target,
                          uint32_t target_cut)
{
    vbp_loader_opts_default(o);
    o->seq = seq;
    o->stride = 1;
    o->channels = channels;
    o->splits = splits;
    o->mode = mode;
    o->order = VBP_ORDER_SEQUENTIAL;
    o->flip_prob = 0.0f;
    o->target = target;
    o->target_cut = target_cut;
    o->batch = batch;
    o->threads = 1;
}

/* Detect on the mean heatmap of `frame` (global index), truth from its target plane y. */
static void eval_frame(vbp_detector *det, const vbp_pack *pack, uint64_t frame, const float *heat,
                       const float *y, float tol, float threshold, vbp_frame_fn fn, void *ctx,
                       vbp_eval_result *out)
{
    vbp_detection pred = vbp_detect(det, heat, threshold);
    vbp_label label = vbp_pack_label(pack, frame);
    vbp_detection truth = vbp_truth(det, &label, y);
    vbp_outcome o = vbp_classify(&truth, &pred, tol);
    vbp_counts_add(&out->counts, o);
    out->frames++;
    if (fn)
        fn(ctx, frame, &pred, o);
}

int vbp_evaluate(vbp_net *net, vbp_loader *ld, float tol, float threshold, vbp_frame_fn fn,
                 void *ctx, vbp_eval_result *out, vbp_error *err)
{
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    const vbp_pack *pack = vbp_loader_pack(ld);
    const size_t hw = (size_t)sh->height * sh->width;
    const uint32_t seq = sh->seq;
    double t0 = vbp_now(), loss_sum = 0.0;
    vbp_detector *det;
    vbp_tmean tm;
    memset(out, 0, sizeof *out);
    int rc = vbp_tmean_init(&tm, seq, hw, err);
    if (!rc && (rc = vbp_detector_create(sh->height, sh->width, &det, err)))
        vbp_tmean_free(&tm);
    if (rc)
        return rc;
    rc = vbp_loader_begin_epoch(ld, 0, 0, err);
    vbp_batch b;
    while (!rc && (rc = vbp_loader_next(ld, &b, err)) > 0) {
        float loss;
        rc = vbp_net_forward(net, b.x, b.n, 0, err);
        if (!rc)
            rc = vbp_net_loss(net, b.y, &loss, err);
        if (rc)
            break;
        loss_sum += (double)loss * (double)b.n;
        out->windows += b.n;
        const float *prob = vbp_net_output(net);
        /* The loader gives each clip's windows in order (stride 1): window s makes frame s
         * final, and a clip's last window its later frames. */
        for (size_t i = 0; i < b.n; i++) {
            const vbp_sample *s = &b.samples[i];
            const uint64_t n = vbp_pack_clip(pack, s->clip)->frame_count;
            const float *heat = prob + i * seq * hw, *y = b.y + i * seq * hw;
            if (s->clip_frame == 0)
                vbp_tmean_reset(&tm);
            if (s->clip_frame != tm.next) { /* a loader not opened with vbp_eval_loader_opts */
                rc = vbp_fail(err, VBP_E_ARG, "evaluation: window %" PRIu64 " of clip %" PRIu64
                              " after window %" PRIu64 ": windows must come in order",
                              s->clip_frame, s->clip, tm.next);
                break;
            }
            eval_frame(det, pack, s->first_frame, vbp_tmean_add(&tm, heat), y, tol, threshold, fn,
                       ctx, out);
            for (uint32_t j = 1; s->clip_frame + seq == n && j < seq; j++)
                eval_frame(det, pack, s->first_frame + j, vbp_tmean_tail(&tm, j), y + j * hw, tol,
                           threshold, fn, ctx, out);
        }
    }
    vbp_detector_free(det);
    vbp_tmean_free(&tm);
    if (rc < 0)
        return rc;
    out->loss = out->windows ? loss_sum / (double)out->windows : 0.0;
    out->scores = vbp_counts_scores(&out->counts);
    out->seconds = vbp_now() - t0;
    out->threshold = threshold;
    return VBP_OK;
}

int vbp_weights_net(const char *weights, vbp_net_config *cfg, uint32_t *channels,
                    uint32_t *background, vbp_error *err)
{
    int rc = vbp_net_weights_config(weights, cfg, err);
    if (rc)
        return rc;
    const uint32_t in = cfg->in_channels, out = cfg->out_channels;
    for (uint32_t bg = 0; bg < 2; bg++) /* (seq + bg) * C inputs */
        if (in % (out + bg) == 0 && (in / (out + bg) == 1 || in / (out + bg) == 3)) {
            *channels = in / (out + bg);
            *background = bg;
            return VBP_OK;
        }
    return vbp_fail(err, VBP_E_FORMAT, "%s: %u input channels for %u heatmaps: not %u frames, "
                    "nor %u and a background frame, of 1 or 3 channels", weights, in, out, out,
                    out);
}

int vbp_weights_threshold(const char *weights, float asked, float *out, vbp_error *err)
{
    *out = asked > 0.0f ? asked : VBP_DETECT_THRESHOLD;
    if (asked > 0.0f)
        return VBP_OK;
    vbp_st_file *f;
    int rc = vbp_safetensors_open(weights, &f, err);
    if (rc)
        return rc;
    const char *v = vbp_safetensors_meta(f, "threshold");
    if (v) {
        char *end;
        errno = 0;
        const float t = strtof(v, &end);
        if (errno || end == v || *end || !(t > 0.0f && t < 1.0f))
            rc = vbp_fail(err, VBP_E_FORMAT, "%s: metadata threshold '%s' is not a number "
                          "between 0 and 1", weights, v);
        else
            *out = t;
    }
    vbp_safetensors_close(f);
    return rc;
}

/* Pack, net with the weights, loader: what eval and predict share. */
typedef struct eval_session {
    float threshold; /* of the detections */
    vbp_pack *pack;
    vbp_net *net;
    vbp_loader *ld;
} eval_session;

static void session_close(eval_session *s)
{
    vbp_loader_close(s->ld);
    vbp_net_free(s->net);
    vbp_pack_close(s->pack);
}

int vbp_net_from_weights(const char *weights, uint32_t height, uint32_t width, uint32_t batch,
                         uint32_t threads, vbp_net **out, uint32_t *seq, uint32_t *channels,
                         uint32_t *background, vbp_error *err)
{
    *out = NULL;
    vbp_net_config nc;
    memset(&nc, 0, sizeof nc);
    int rc = vbp_weights_net(weights, &nc, channels, background, err); /* architecture, seq, ... */
    if (rc)
        return rc;
    *seq = nc.out_channels;
    nc.height = height, nc.width = width, nc.max_batch = batch, nc.threads = threads;
    rc = vbp_net_create(&nc, 0, out, err);
    if (!rc)
        rc = vbp_net_load_safetensors(*out, weights, err);
    if (rc) {
        vbp_net_free(*out);
        *out = NULL;
    }
    return rc;
}

static int session_open(eval_session *s, const char *pack_path, const char *weights,
                        const vbp_eval_config *cfg, vbp_error *err)
{
    memset(s, 0, sizeof *s);
    vbp_net_config nc;
    memset(&nc, 0, sizeof nc);
    uint32_t channels, background;
    int rc = vbp_weights_net(weights, &nc, &channels, &background, err);
    const uint32_t seq = nc.out_channels;
    if (!rc)
        rc = vbp_weights_threshold(weights, cfg->threshold, &s->threshold, err);
    if (!rc)
        rc = vbp_pack_open(pack_path, &s->pack, err);
    if (rc)
        return rc;
    const vbp_geometry *g = &vbp_pack_get_info(s->pack)->geometry;
    if (g->frame_channels != channels) {
        session_close(s);
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: frames have %u channel(s), %s was trained on %u",
                        pack_path, g->frame_channels, weights, channels);
    }
    nc.height = g->height, nc.width = g->width;
    nc.max_batch = cfg->batch, nc.threads = cfg->threads;
    vbp_memlimit lim; /* before the network's allocations: the loader keeps them out of the pack's share */
    vbp_memlimit_read(NULL, &lim);
    rc = vbp_net_create(&nc, 0, &s->net, err);
    if (!rc)
        rc = vbp_net_load_safetensors(s->net, weights, err);
    if (!rc) { /* the network's memory is kept out of what a preloaded pack may use */
        vbp_loader_opts o;
        vbp_eval_loader_opts(&o, seq, channels, cfg->batch, cfg->splits, cfg->mode,
                             cfg->target ? cfg->target : VBP_TRAIN_TARGET_DEFAULT, cfg->target_cut);
        o.background = background;
        o.reserve_bytes = vbp_net_memory_bytes(s->net);
        o.limit = &lim;
        rc = vbp_loader_open(s->pack, &o, &s->ld, err);
    }
    if (rc)
        session_close(s);
    return rc;
}

/* Clips of the selected splits too short for one window. */
static uint64_t short_clips(const vbp_pack *pack, uint32_t splits, uint32_t seq)
{
    uint64_t n = 0;
    for (uint64_t c = 0; c < vbp_pack_get_info(pack)->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(pack, c);
        n += (splits & VBP_SPLIT_BIT(clip->split)) && clip->frame_count < seq;
    }
    return n;
}

/* What eval and predict keep of each frame: its prediction and its clip's counts (either NULL). */
typedef struct frame_sink {
    const vbp_pack *pack;
    vbp_detection *pred;
    vbp_counts *clips;
} frame_sink;

static void keep_frame(void *ctx, uint64_t frame, const vbp_detection *pred, vbp_outcome o)
{
    frame_sink *k = ctx;
    if (k->pred)
        k->pred[frame] = *pred;
    if (k->clips)
        vbp_counts_add(&k->clips[vbp_pack_clip_of_frame(k->pack, frame)], o);
}

/* The sink of cfg over an open session: VBP_E_ARG when clip_counts does not fit the pack. */
static int sink_open(frame_sink *k, const eval_session *s, const char *pack_path,
                     const vbp_eval_config *cfg, vbp_error *err)
{
    uint64_t clips = vbp_pack_get_info(s->pack)->clip_count;
    *k = (frame_sink){ s->pack, NULL, cfg->clip_counts };
    if (!cfg->clip_counts)
        return VBP_OK;
    if (cfg->clip_count != clips)
        return vbp_fail(err, VBP_E_ARG, "%s: the pack has %" PRIu64 " clips, clip_counts %" PRIu64,
                        pack_path, clips, cfg->clip_count);
    memset(cfg->clip_counts, 0, (size_t)clips * sizeof *cfg->clip_counts);
    return VBP_OK;
}

int vbp_eval_run(const char *pack_path, const char *weights, const vbp_eval_config *cfg,
                 vbp_eval_result *out, vbp_error *err)
{
    eval_session s;
    frame_sink k;
    int rc = session_open(&s, pack_path, weights, cfg, err);
    if (rc)
        return rc;
    rc = sink_open(&k, &s, pack_path, cfg, err);
    if (!rc)
        rc = vbp_evaluate(s.net, s.ld, cfg->tol, s.threshold, k.clips ? keep_frame : NULL, &k, out,
                          err);
    out->skipped_clips = short_clips(s.pack, cfg->splits, vbp_loader_get_shape(s.ld)->seq);
    session_close(&s);
    return rc;
}

int vbp_make_dir(const char *path, vbp_error *err)
{
    if (mkdir(path, 0755) && errno != EEXIST)
        return vbp_fail(err, VBP_E_IO, "%s: cannot create directory: %s", path, strerror(errno));
    return VBP_OK;
}

/* A name of the pack that can be one path component: not "", "." or "..", no '/'. */
static int file_name(const char *s)
{
    return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

/* VBP_OK when the clip's match and name can name files under dir, else VBP_E_INPUT naming it. */
static int clip_file_names(const char *dir, const vbp_clip *clip, vbp_error *err)
{
    if ((!clip->group[0] || file_name(clip->group)) && file_name(clip->name))
        return VBP_OK;
    char q[VBP_CLIP_LABEL_MAX];
    return vbp_fail(err, VBP_E_INPUT, "%s: clip '%s' cannot name a file there (a match or clip "
                    "name with '/', or '.' or '..')", dir,
                    vbp_clip_label(q, sizeof q, clip->group, clip->name));
}

int vbp_clip_path(char *out, size_t size, const char *dir, const vbp_clip *clip, const char *suffix,
                  vbp_error *err)
{
    int rc = clip_file_names(dir, clip, err);
    if (rc)
        return rc;
    int n;
    if (clip->group[0]) {
        n = snprintf(out, size, "%s/%s", dir, clip->group);
        if (n < 0 || (size_t)n >= size)
            return vbp_fail(err, VBP_E_ARG, "%s: output path too long", dir);
        if ((rc = vbp_make_dir(out, err)))
            return rc;
        n = snprintf(out, size, "%s/%s/%s%s", dir, clip->group, clip->name, suffix);
    } else {
        n = snprintf(out, size, "%s/%s%s", dir, clip->name, suffix);
    }
    if (n < 0 || (size_t)n >= size - 32)
        return vbp_fail(err, VBP_E_ARG, "%s: output path too long", dir);
    return VBP_OK;
}

int vbp_predictions_csv(const char *path, const vbp_detection *pred, uint64_t n, double sx,
                        double sy, vbp_error *err)
{
    size_t cap = 32 + (size_t)n * 48, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    len += (size_t)snprintf(buf, cap, "Frame,Visibility,X,Y\n");
    for (uint64_t f = 0; f < n; f++) {
        const vbp_detection *d = &pred[f];
        if (d->visible)
            len += (size_t)snprintf(buf + len, cap - len, "%" PRIu64 ",1,%ld,%ld\n", f,
                                    lround((double)d->x * sx), lround((double)d->y * sy));
        else
            len += (size_t)snprintf(buf + len, cap - len, "%" PRIu64 ",0,-1,-1\n", f);
    }
    int rc = vbp_atomic_write_file(path, buf, len, err);
    free(buf);
    return rc;
}

/* Write one clip's CSV from pred[first .. first+frames-1]. */
static int write_clip_csv(const char *out_dir, const vbp_clip *clip, const vbp_detection *pred,
                          vbp_error *err)
{
    char path[4096];
    int rc = vbp_clip_path(path, sizeof path, out_dir, clip, "_ball.csv", err);
    return rc ? rc : vbp_predictions_csv(path, pred, clip->frame_count, 1.0, 1.0, err);
}

int vbp_predict_run(const char *pack_path, const char *weights, const char *out_dir,
                    const vbp_eval_config *cfg, vbp_eval_result *out, vbp_error *err)
{
    eval_session s;
    vbp_eval_result local;
    if (!out)
        out = &local;
    frame_sink k;
    int rc = session_open(&s, pack_path, weights, cfg, err);
    if (rc)
        return rc;
    const vbp_pack_info *info = vbp_pack_get_info(s.pack);
    /* every name a file will get, before anything is written */
    for (uint64_t c = 0; !rc && c < info->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(s.pack, c);
        if (cfg->splits & VBP_SPLIT_BIT(clip->split))
            rc = clip_file_names(out_dir, clip, err);
    }
    vbp_detection *pred = rc ? NULL : malloc((size_t)info->frame_count * sizeof *pred);
    if (!rc && !pred)
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", pack_path);
    for (uint64_t f = 0; !rc && f < info->frame_count; f++)
        pred[f] = (vbp_detection){ 0, -1.0f, -1.0f };
    if (!rc)
        rc = sink_open(&k, &s, pack_path, cfg, err);
    if (!rc) {
        k.pred = pred;
        rc = vbp_evaluate(s.net, s.ld, cfg->tol, s.threshold, keep_frame, &k, out, err);
    }
    if (!rc) {
        out->skipped_clips = short_clips(s.pack, cfg->splits, vbp_loader_get_shape(s.ld)->seq);
        rc = vbp_make_dir(out_dir, err);
    }
    for (uint64_t c = 0; !rc && c < info->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(s.pack, c);
        if (cfg->splits & VBP_SPLIT_BIT(clip->split))
            rc = write_clip_csv(out_dir, clip, pred + clip->first_frame, err);
    }
    if (!rc && cfg->overlay_dir)
        rc = vbp_make_dir(cfg->overlay_dir, err);
    const uint32_t seq = rc ? 0 : vbp_loader_get_shape(s.ld)->seq;
    for (uint64_t c = 0; !rc && cfg->overlay_dir && c < info->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(s.pack, c);
        if ((cfg->splits & VBP_SPLIT_BIT(clip->split)) && clip->frame_count >= seq)
            rc = vbp_overlay_clip(s.pack, c, pred + clip->first_frame, cfg->overlay_dir, err);
    }
    free(pred);
    session_close(&s);
    return rc;
}

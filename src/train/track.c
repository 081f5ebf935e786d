/*
 * track.c - vbp_track_run: a trained model over a video, streaming.
 *
 * Frames are decoded and shrunk one at a time into a ring of `batch + seq`
 * frames; as soon as `batch` windows are complete (or the video ends) they
 * go through the network in one forward, and each frame is detected on its
 * heatmap averaged over the windows that hold it (temporal_mean.c, as eval
 * and predict do): window s makes frame s final, and the last window, known
 * only when the video ends, its later frames.  Detections are
 * kept (a few bytes a frame) and written as one CSV at the end; the overlay
 * video is written as frames' detections become final, from a ring of the
 * frames at their own size.
 *
 * The network-specific part is vbp_net_from_weights and the layout of a
 * window in the network's input (seq frames of C planes, in order, v / 255,
 * as the loader builds them): nothing else here knows the model.  A model
 * that takes a background frame gets the video's (background.h): a first
 * pass decodes the video and keeps every s-th frame, doubling s whenever it
 * holds more than VBP_BG_FRAMES, which leaves the frames the loader takes
 * from a clip of the same length; the second pass tracks.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "background.h"
#include "draw.h"
#include "internal.h"
#include "train_internal.h"
#include "vbp_video.h"

void vbp_track_config_default(vbp_track_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->width = 512;
    cfg->height = 288;
    cfg->batch = 4;
}

typedef struct tracker {
    const vbp_track_config *cfg;
    const char *video;
    vbp_video *v;
    const vbp_video_info *info;
    vbp_net *net;
    uint32_t seq, channels;
    uint32_t background;       /* the model takes the video's background frame */
    uint8_t *bg;               /* that frame (network size) */
    float threshold;           /* of the detections */
    size_t plane, frame_bytes, rgb_bytes;
    uint32_t ring;             /* frames kept: batch + seq */
    uint8_t *frames;           /* ring of network-size frames */
    uint8_t *rgb;              /* ring of own-size frames (overlay only) */
    float *x;                  /* batch windows of the network's input */
    vbp_detector *det;
    vbp_detection *pred;       /* per frame; grown as frames come */
    size_t pred_cap;
    vbp_tmean mean;            /* the frames' heatmaps over their windows */
    uint64_t decoded;          /* frames read */
    uint64_t windows;          /* windows run: the next one starts at this frame */
    uint64_t final;            /* frames whose detection is final */
    vbp_video_writer *out;     /* overlay */
    uint64_t written;          /* overlay frames written */
    vbp_track_result res;
} tracker;

static int grow_pred(tracker *t, uint64_t need, vbp_error *err)
{
    if (need <= t->pred_cap)
        return VBP_OK;
    size_t cap = t->pred_cap ? 2 * t->pred_cap : 1024;
    while (cap < need)
        cap *= 2;
    vbp_detection *p = realloc(t->pred, cap * sizeof *p);
    if (!p)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for %zu detections", t->video, cap);
    t->pred = p;
    t->pred_cap = cap;
    return VBP_OK;
}

/* Window start s, frame j of it (ring slot), as the network's input: C planes of v / 255;
 * then the background's when the model takes it. */
static void load_window(tracker *t, uint64_t s, float *x)
{
    for (uint32_t j = 0; j < t->seq + t->background; j++) {
        const uint8_t *src =
            j < t->seq ? t->frames + ((s + j) % t->ring) * t->frame_bytes : t->bg;
        float *dst = x + (size_t)j * t->frame_bytes;
        for (size_t i = 0; i < t->frame_bytes; i++)
            dst[i] = (float)src[i] / 255.0f;
    }
}

/*
 * The first pass of a background model: the median of frames 0, s, 2s, ... of the whole
 * video into t->bg (background.h), then the video reopened for tracking.  The decoder's
 * errors; VBP_E_INPUT for a video without frames.
 */
static int video_background(tracker *t, vbp_error *err)
{
    vbp_bg_sampler bs;
    int rc = vbp_bg_sampler_init(&bs, t->frame_bytes) || !(t->bg = malloc(t->frame_bytes))
                 ? vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for the background frames",
                            t->video)
                 : VBP_OK;
    double t0 = vbp_now();
    for (int got = 1; !rc && got;) {
        if (t->cfg->stop && *t->cfg->stop) {
            rc = vbp_fail(err, VBP_E_INTERRUPTED, "%s: interrupted: nothing written", t->video);
            break;
        }
        got = vbp_video_read(t->v, t->cfg->width, t->cfg->height, t->channels,
                             vbp_bg_sampler_slot(&bs), NULL, err);
        if (got < 0)
            rc = got;
        else if (got)
            vbp_bg_sampler_push(&bs);
        if (got > 0 && t->cfg->progress) /* the bar fills once for this pass, once for tracking */
            t->cfg->progress(t->cfg->progress_ctx, bs.n, t->info->frames);
    }
    if (!rc && !bs.n)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: the video has no frames", t->video);
    if (!rc && vbp_bg_sampler_median(&bs, t->bg))
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for the median", t->video);
    vbp_bg_sampler_free(&bs);
    t->res.decode_seconds += vbp_now() - t0;
    if (!rc) { /* again from the start, to track */
        vbp_video_close(t->v);
        t->v = NULL;
        rc = vbp_video_open(t->video, 0, &t->v, err);
    }
    if (!rc)
        t->info = vbp_video_get_info(t->v);
    return rc;
}

/* Overlay frames whose detection is final, in order. */
static int write_overlay(tracker *t, vbp_error *err)
{
    double t0 = vbp_now();
    const float sx = (float)t->info->width / (float)t->cfg->width;
    const float sy = (float)t->info->height / (float)t->cfg->height;
    int rc = VBP_OK;
    for (; !rc && t->written < t->final; t->written++) {
        /* drawn in its ring slot: the frame is not read again */
        vbp_canvas c = { t->rgb + (t->written % t->ring) * t->rgb_bytes, t->info->width,
                         t->info->height };
        const vbp_detection *d = &t->pred[t->written];
        if (d->visible)
            vbp_overlay_mark_ball(&c, d->x * sx, d->y * sy, sx < sy ? sx : sy);
        rc = vbp_video_writer_add(t->out, c.px, err);
    }
    t->res.overlay_seconds += vbp_now() - t0;
    return rc;
}

/*
 * Run the complete windows (all that remain when `end`), `batch` at a time
 * once `batch` are complete, and settle the detections they own.
 */
static int run_windows(tracker *t, int end, vbp_error *err)
{
    const uint32_t seq = t->seq, batch = t->cfg->batch;
    const uint64_t complete = t->decoded >= seq ? t->decoded - seq + 1 : 0;
    while (complete > t->windows && (end || complete - t->windows >= batch)) {
        double t0 = vbp_now();
        uint64_t k = complete - t->windows < batch ? complete - t->windows : batch;
        for (uint64_t i = 0; i < k; i++)
            load_window(t, t->windows + i, t->x + i * (seq + t->background) * t->frame_bytes);
        int rc = vbp_net_forward(t->net, t->x, (size_t)k, 0, err);
        if (rc)
            return rc;
        const float *prob = vbp_net_output(t->net);
        for (uint64_t i = 0; i < k; i++) {
            const float *mean = vbp_tmean_add(&t->mean, prob + i * seq * t->plane);
            t->pred[t->windows + i] = vbp_detect(t->det, mean, t->threshold);
        }
        t->windows += k;
        t->final = t->windows;
        t->res.net_seconds += vbp_now() - t0;
        if (t->out && (rc = write_overlay(t, err)) != VBP_OK)
            return rc;
    }
    if (end && t->final < t->decoded) { /* the video ended: its last window's later frames */
        for (uint32_t j = 1; j < seq; j++)
            t->pred[t->windows - 1 + j] =
                vbp_detect(t->det, vbp_tmean_tail(&t->mean, j), t->threshold);
        t->final = t->decoded;
        if (t->out)
            return write_overlay(t, err);
    }
    return VBP_OK;
}

static void tracker_free(tracker *t)
{
    vbp_video_writer_abort(t->out);
    vbp_video_close(t->v);
    vbp_net_free(t->net);
    vbp_detector_free(t->det);
    free(t->frames);
    free(t->bg);
    free(t->rgb);
    free(t->x);
    free(t->pred);
    vbp_tmean_free(&t->mean);
}

static int tracker_open(tracker *t, const char *video, const char *weights,
                        const vbp_track_config *cfg, vbp_error *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->video = video;
    if (!cfg->batch || !cfg->width || !cfg->height)
        return vbp_fail(err, VBP_E_ARG, "track: batch, width and height must be positive");
    int rc = vbp_net_from_weights(weights, cfg->height, cfg->width, cfg->batch, cfg->threads,
                                  &t->net, &t->seq, &t->channels, &t->background, err);
    if (!rc)
        rc = vbp_weights_threshold(weights, cfg->threshold, &t->threshold, err);
    if (!rc)
        rc = vbp_video_open(video, 0, &t->v, err);
    if (rc)
        return rc;
    t->info = vbp_video_get_info(t->v);
    if (t->info->width < cfg->width || t->info->height < cfg->height)
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: video is %ux%u, smaller than the network's "
                        "%ux%u frames (frames are only shrunk)", video, t->info->width,
                        t->info->height, cfg->width, cfg->height);
    t->plane = (size_t)cfg->width * cfg->height;
    t->frame_bytes = t->plane * t->channels;
    t->rgb_bytes = (size_t)3 * t->info->width * t->info->height;
    t->ring = cfg->batch + t->seq;
    t->frames = malloc(t->ring * t->frame_bytes);
    t->x = malloc((size_t)cfg->batch * (t->seq + t->background) * t->frame_bytes * sizeof *t->x);
    if (cfg->overlay)
        t->rgb = malloc(t->ring * t->rgb_bytes);
    if (!t->frames || !t->x || (cfg->overlay && !t->rgb))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for %u frames", video, t->ring);
    if (t->background && (rc = video_background(t, err)) != VBP_OK)
        return rc;
    if ((rc = vbp_tmean_init(&t->mean, t->seq, t->plane, err)) != VBP_OK)
        return rc;
    if ((rc = vbp_detector_create(cfg->height, cfg->width, &t->det, err)) != VBP_OK)
        return rc;
    if (cfg->overlay)
        rc = vbp_video_writer_open(cfg->overlay, t->info->width, t->info->height,
                                   t->info->fps_num, t->info->fps_den, &t->out, err);
    return rc;
}

int vbp_track_run(const char *video, const char *weights, const char *csv_path,
                  const vbp_track_config *cfg, vbp_track_result *res, vbp_error *err)
{
    double start = vbp_now();
    tracker t;
    int rc = tracker_open(&t, video, weights, cfg, err);
    for (int got = 1; !rc && got;) {
        if (cfg->stop && *cfg->stop) {
            rc = vbp_fail(err, VBP_E_INTERRUPTED, "%s: interrupted: nothing written", video);
            break;
        }
        double t0 = vbp_now();
        uint64_t slot = t.decoded % t.ring;
        got = vbp_video_read(t.v, cfg->width, cfg->height, t.channels,
                             t.frames + slot * t.frame_bytes,
                             t.rgb ? t.rgb + slot * t.rgb_bytes : NULL, err);
        t.res.decode_seconds += vbp_now() - t0;
        if (got < 0) {
            rc = got;
            break;
        }
        t.decoded += (uint64_t)got;
        if (got && (rc = grow_pred(&t, t.decoded, err)) != VBP_OK)
            break;
        if (!got && t.decoded < t.seq)
            rc = t.decoded ? vbp_fail(err, VBP_E_GEOMETRY, "%s: %llu frames, fewer than the %u "
                                      "of the model's windows", video,
                                      (unsigned long long)t.decoded, t.seq)
                           : vbp_fail(err, VBP_E_INPUT, "%s: the video has no frames", video);
        if (!rc)
            rc = run_windows(&t, !got, err);
        if (!rc && got && cfg->progress)
            cfg->progress(cfg->progress_ctx, t.decoded, t.info->frames);
    }
    if (!rc)
        rc = vbp_predictions_csv(csv_path, t.pred, t.decoded,
                                 (double)t.info->width / cfg->width,
                                 (double)t.info->height / cfg->height, err);
    if (!rc && t.out) {
        double t0 = vbp_now();
        rc = vbp_video_writer_finish(t.out, err);
        t.out = NULL;
        t.res.overlay_seconds += vbp_now() - t0;
        if (rc) /* the CSV is there already: the pair is all or nothing */
            unlink(csv_path);
    }
    if (!rc && res) {
        t.res.frames = t.decoded;
        t.res.threshold = t.threshold;
        for (uint64_t f = 0; f < t.decoded; f++)
            t.res.visible += t.pred[f].visible != 0;
        t.res.video_width = t.info->width;
        t.res.video_height = t.info->height;
        t.res.fps_num = t.info->fps_num;
        t.res.fps_den = t.info->fps_den;
        t.res.seconds = vbp_now() - start;
        *res = t.res;
    }
    tracker_free(&t);
    return rc;
}

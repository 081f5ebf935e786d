/*
 * train_internal.h - what train.c, evaluate.c and checkpoint.c share; not installed.
 */
#ifndef VBP_TRAIN_INTERNAL_H
#define VBP_TRAIN_INTERNAL_H

#include "vbp_train.h"

/*
 * Options of the evaluation loader over `splits`: every window of stride 1
 * in pack order, no flip, one worker.  vbp_loader_open with them fails with
 * VBP_E_GEOMETRY when the pack does not fit (channels) or no clip of the
 * splits has seq frames.
 */
void vbp_eval_loader_opts(vbp_loader_opts *o, uint32_t seq, uint32_t channels, uint32_t batch,
                          uint32_t splits, vbp_load_mode mode, vbp_target target,
                          uint32_t target_cut);

/*
 * The network a weights file describes, for frames of width x height and
 * batches of up to `batch` windows: its seq and channels read from the file
 * (vbp_weights_net: the architecture too; *seq and *channels get them), created and loaded.  The
 * one place where a weights file becomes a net (eval, predict, track).
 * VBP_E_IO, VBP_E_FORMAT naming the file, VBP_E_ARG, VBP_E_NOMEM.
 */
int vbp_net_from_weights(const char *weights, uint32_t height, uint32_t width, uint32_t batch,
                         uint32_t threads, vbp_net **out, uint32_t *seq, uint32_t *channels,
                         uint32_t *background,
                         vbp_error *err);

/*
 * The predictions CSV (Frame,Visibility,X,Y) of pred[0..n-1] at path,
 * atomically: X and Y are x * sx and y * sy rounded to integers, -1,-1 when
 * not visible.  predict writes pack pixels (sx = sy = 1), track the video's.
 */
int vbp_predictions_csv(const char *path, const vbp_detection *pred, uint64_t n, double sx,
                        double sy, vbp_error *err);

/*
 * Each frame's heatmap averaged over the stride-1 windows that hold it
 * (temporal_mean.c).  The windows of one stream are added in order from its
 * frame 0, each as its seq planes of `plane` floats: vbp_tmean_add returns
 * the mean of the frame its window starts at (no later window holds it);
 * after the stream's last window, vbp_tmean_tail(m, j), j = 1 .. seq-1,
 * returns that of the window's frame j.  A returned plane is valid until the
 * next add.  vbp_tmean_reset starts a new stream.  init: VBP_E_NOMEM.
 */
typedef struct vbp_tmean {
    uint32_t seq;
    size_t plane;
    float *sum;    /* seq planes: the sum of frame f in slot f % seq */
    uint64_t next; /* the window the next add takes */
} vbp_tmean;
int vbp_tmean_init(vbp_tmean *m, uint32_t seq, size_t plane, vbp_error *err);
void vbp_tmean_free(vbp_tmean *m);
void vbp_tmean_reset(vbp_tmean *m);
const float *vbp_tmean_add(vbp_tmean *m, const float *heat);
const float *vbp_tmean_tail(vbp_tmean *m, uint32_t j);

/* Called for every predicted frame (global frame index in the pack). */
typedef void (*vbp_frame_fn)(void *ctx, uint64_t frame, const vbp_detection *pred, vbp_outcome o);

/*
 * Run every window of ld (opened with vbp_eval_loader_opts) through net in
 * inference mode; fill *out (loss, counts, scores) and call fn (may be NULL)
 * for each frame in the order of the header's ownership rule.
 */
int vbp_evaluate(vbp_net *net, vbp_loader *ld, float tol, float threshold, vbp_frame_fn fn,
                 void *ctx, vbp_eval_result *out, vbp_error *err);

/* Where a run stands; saved in last.state with the network and its optimizer moments. */
typedef struct vbp_train_state {
    uint64_t epoch;          /* epoch in progress (0-based) */
    uint64_t batch;          /* batches of it already trained */
    uint64_t step;           /* optimizer steps done in total */
    double loss_sum;         /* sum of loss * samples over the epoch's batches so far */
    uint64_t loss_samples;
    double best_score;       /* score of best.safetensors; -inf when none */
    double best_loss;        /* its loss (val, else train): breaks ties of best_score */
    uint32_t best_epoch;     /* 1-based; 0 when none */
    uint64_t pack_fingerprint;
    vbp_order order;         /* training order in effect (never AUTO) */
    vbp_target target;       /* heatmap targets in effect (never AUTO) */
    uint32_t target_cut;     /* 1..255 */
} vbp_train_state;

/*
 * Write net (parameters, BN statistics and counters, Adam moments), the
 * position st and the training part of cfg to path, atomically.
 * VBP_E_NUMERIC (nothing written) when a parameter is not finite.
 */
int vbp_state_save(const char *path, vbp_net *net, const vbp_train_config *cfg,
                   const vbp_train_state *st, vbp_error *err);

/*
 * The architecture a state file was written for: its cfg.model (VballNetFastV1 for states
 * written before the key existed), as a vbp_net_model_name() string.  VBP_E_IO, VBP_E_FORMAT
 * naming the file.
 */
int vbp_state_model(const char *path, const char **model, vbp_error *err);

/*
 * Load a state written by vbp_state_save into net and *st.  The file must
 * have been written for the same pack (expect_fingerprint) and the same
 * training config (cfg: seq, channels, geometry, batch, optimizer, ...); a
 * difference fails with VBP_E_ARG naming the file and the key
 * ("RUN/last.state: written with batch=4, this run asks for batch=8").
 * cfg->order AUTO accepts the recorded order, cfg->target AUTO and
 * target_cut 0 the recorded target (soft, 128 in files older than them).
 */
int vbp_state_load(const char *path, vbp_net *net, const vbp_train_config *cfg,
                   uint64_t expect_fingerprint, vbp_train_state *st, vbp_error *err);

/* mkdir path (0755); an existing directory is fine.  VBP_E_IO naming it. */
int vbp_make_dir(const char *path, vbp_error *err);

/*
 * DIR/<group>/<clip><suffix> (DIR/<clip><suffix> without a group) into out,
 * creating DIR/<group>, with 32 bytes of out to spare.  Names come from the
 * pack: one that is not a single path component ('/', ".", "..") would write
 * outside DIR and fails with VBP_E_INPUT naming the clip; VBP_E_ARG when the
 * path is too long, VBP_E_IO from mkdir.
 */
int vbp_clip_path(char *out, size_t size, const char *dir, const vbp_clip *clip, const char *suffix,
                  vbp_error *err);

/* Ring radii of the overlays at full size (tests look for the colours on them). */
#define VBP_OVERLAY_PRED_R 5.0f
#define VBP_OVERLAY_LABEL_R 8.0f

/*
 * Pictures of clip `clip_index` (its frames' predictions in pred[0 .. frames-1]):
 * DIR[/group]/<clip>/NNNNNN.png, each frame (RGB, gray expanded) with the
 * predicted ball as a red ring of radius VBP_OVERLAY_PRED_R and a cross, the
 * labelled ball (when the pack has a visible label) as a green ring of radius
 * VBP_OVERLAY_LABEL_R; and DIR[/group]/<clip>_sheet.png, a grid of 6 columns
 * of every k-th frame (k = ceil(frames / 48)) shrunk by round(W / 160) (at
 * least 1), 2 px apart, marked the same way and numbered.  Files written atomically.
 */
int vbp_overlay_clip(const vbp_pack *pack, uint64_t clip_index, const vbp_detection *pred,
                     const char *dir, vbp_error *err);

/*
 * The predicted ball as the overlays draw it, on a canvas `scale` times the
 * pack's size (track's overlay video: the video's size): a red ring of
 * radius VBP_OVERLAY_PRED_R * scale and a cross, centred at (x, y).
 */
struct vbp_canvas;
void vbp_overlay_mark_ball(struct vbp_canvas *c, float x, float y, float scale);

#endif

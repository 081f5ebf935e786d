/*
 * vbp_train.h - train, evaluate and run VballNetFastV1 over a pack; track a
 * ball in a video.
 *
 * Training reads the train split through a vbp_loader (shuffled, flipped),
 * evaluates the val split after every epoch and keeps, in the run directory:
 *   last.safetensors  weights after the last completed checkpoint (PyTorch state dict)
 *   last.state        the whole training state (weights, Adam moments, step,
 *                     epoch and batch position, pack fingerprint, config)
 *   best.safetensors  weights of the best epoch (val F1, then val loss;
 *                     train loss when the pack has no val split)
 *   metrics.jsonl     one JSON object per epoch
 *   curve.png         the learning curve of metrics.jsonl (vbp_plot_metrics)
 * Every file is written to a temporary name, fsynced and renamed.  The
 * state file format is specified in docs/training.md.
 *
 * Determinism: a run is a function of (pack, config); resuming from
 * last.state, written at an epoch end or mid-epoch, gives bit-identical
 * weights to an uninterrupted run, whatever the thread counts or load mode.
 *
 * Evaluation and prediction use every window of stride 1 of the selected
 * splits, in order, without flip.  Frame f of a clip of n >= seq frames is
 * detected on its heatmap averaged over the windows that hold it (those
 * starting at max(0, f-seq+1) .. min(f, n-seq): the temporal mean, up to seq
 * heatmaps).  Clips shorter than seq frames have no window and are not
 * predicted.
 */
#ifndef VBP_TRAIN_H
#define VBP_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"
#include "vbp_loader.h"
#include "vbp_metrics.h"
#include "vbp_net.h"
#include "vbp_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The trainer's (and eval's) targets when none is asked: binary discs, because soft Gaussian
 * targets cap real-footage outputs below the 0.5 detection threshold (docs/model.md). */
#define VBP_TRAIN_TARGET_DEFAULT VBP_TARGET_BINARY

struct vbp_dist; /* vbp_dist.h */

typedef enum vbp_optimizer { VBP_OPT_ADAM = 0, VBP_OPT_ADAMW = 1 } vbp_optimizer;

typedef struct vbp_train_config {
    /* What is trained (a checkpoint records these; --resume must match them). */
    const char *model;        /* architecture (vbp_net_model_name); NULL: that of --init's weights,
                                 on --resume the checkpoint's, else VballNetFastV1 */
    uint32_t seq;             /* frames per window (3) */
    uint32_t channels;        /* 1 gray, 3 RGB; 0 = the pack's */
    uint32_t background;      /* 1: the network also takes each clip's background frame (the
                                 median of its frames, vbp_loader.h; VballNetFastV1 only); 0 = off */
    uint32_t batch;           /* samples per step (4); with cfg->dist the global batch of all ranks */
    float lr;                 /* initial learning rate (1e-3) */
    float lr_gamma;           /* staircase decay factor (0.9) */
    uint32_t lr_decay_epochs; /* epochs' worth of steps per decay (2); 0 = no decay */
    vbp_optimizer optimizer;  /* Adam */
    float weight_decay;       /* 0 */
    float flip;               /* horizontal flip probability (0.5) */
    float brightness;         /* frame brightness jitter, 0..1 (0 = off; vbp_loader_opts) */
    float contrast;           /* frame contrast jitter, 0..1 (0 = off) */
    uint32_t shift;           /* random shift of frames and heatmaps, pixels (0 = off) */
    uint32_t stride;          /* training window stride (1) */
    uint64_t seed;            /* weights, order and flips (0) */
    vbp_order order;          /* AUTO: resolved at the first start and then recorded */
    vbp_target target;        /* heatmap targets; AUTO: VBP_TRAIN_TARGET_DEFAULT, on --resume the recorded */
    uint32_t target_cut;      /* binary cut 1..255; 0: VBP_TARGET_CUT_DEFAULT, on --resume the recorded */
    /* How long and how (free to change between a run and its resumption). */
    uint32_t epochs;          /* total epochs, counting those already done (1) */
    uint32_t threads;         /* network threads; 0 = OpenMP's default */
    uint32_t loader_threads;  /* batch-assembly workers (1) */
    vbp_load_mode mode;       /* DISK */
    float tol;                /* metric tolerance in pixels (4) */
    uint64_t checkpoint_every;/* also save last.state every N steps; 0 = epoch ends only */
    uint64_t stop_after;      /* save and stop once this many steps are done; 0 = never */
    uint64_t nan_at_step;     /* testing: treat the loss of step N (1-based) as NaN; 0 = never */
    int resume;               /* continue from RUN_DIR/last.state */
    uint32_t accumulate;      /* each rank's share of a batch runs as this many parts, one after
                                 another (BatchNorm per part, gradients summed: docs/training.md);
                                 0 or 1 = the whole share at once */
    const struct vbp_dist *dist; /* the ranks of a data-parallel run (vbp_dist.h); NULL = alone */
    const char *init;         /* a new run starts from these weights (.safetensors) instead of
                                 random ones; Adam moments and step start at 0; NULL = none;
                                 ignored on resume (the state holds the weights) */
} vbp_train_config;

void vbp_train_config_default(vbp_train_config *cfg);

/* Evaluation of one split selection. */
typedef struct vbp_eval_result {
    double loss;          /* mean loss over windows */
    uint64_t windows;     /* windows run through the network */
    uint64_t frames;      /* frames predicted and counted */
    uint64_t skipped_clips; /* clips shorter than seq: not predicted */
    vbp_counts counts;
    vbp_scores scores;
    double seconds;
    float threshold;      /* of the detections */
} vbp_eval_result;

/* One line per epoch, as printed and as written to metrics.jsonl. */
typedef struct vbp_epoch_report {
    uint32_t epoch;          /* 1-based number of the epoch just finished */
    uint32_t epochs;
    uint64_t step;           /* optimizer steps done in total */
    double lr;               /* learning rate of the last step */
    double train_loss;       /* mean over the epoch's samples */
    int has_val;             /* 0: the pack has no usable val split */
    vbp_eval_result val;
    double samples_per_s;    /* training samples per second of this epoch (all ranks together) */
    double wait_fraction;    /* share of the epoch's time spent waiting for batches */
    double seconds;
    int best;                /* 1: best.safetensors was written from this epoch */
} vbp_epoch_report;

typedef struct vbp_train_callbacks {
    void *ctx;
    /* After each step: position in the epoch and the step's loss. */
    void (*on_step)(void *ctx, uint32_t epoch, uint64_t batch, uint64_t batches, double loss);
    void (*on_epoch)(void *ctx, const vbp_epoch_report *r);
    /* One informational line (resume point, missing val split, loader note). */
    void (*on_note)(void *ctx, const char *line);
    /* May be NULL.  Checked after every step: nonzero (e.g. set by a SIGINT
     * handler) saves a checkpoint and stops with VBP_E_INTERRUPTED. */
    const volatile int *stop;
} vbp_train_callbacks;

/* Result of vbp_train_run. */
typedef struct vbp_train_summary {
    uint32_t epochs_done;
    uint64_t steps_done;
    int stopped_early;       /* stop_after reached */
    double best_score;       /* val F1 (or -loss when judged by loss) of best.safetensors */
    uint32_t best_epoch;     /* 0: none */
} vbp_train_summary;

/*
 * Train cfg->epochs epochs on pack_path, writing run_dir (created if
 * missing).  Without cfg->resume, an existing run_dir/last.state is an error
 * (VBP_E_EXISTS).  With it, the state is loaded and checked: another pack
 * (fingerprint) or a different training config fails with VBP_E_ARG naming
 * the file and what differs.  cfg->init whose seq or channels differ from the
 * run's fails with VBP_E_GEOMETRY naming it; a missing tensor or another
 * shape with the error of vbp_net_load_safetensors.  Geometry that does not fit the config fails
 * with VBP_E_GEOMETRY.  A NaN or infinite loss stops the run with
 * VBP_E_NUMERIC naming the step; the last checkpoint written stays.
 * *cb->stop set: checkpoint after the current step, VBP_E_INTERRUPTED.
 * cb and summary may be NULL.
 *
 * Data-parallel (cfg->dist of size N > 1): every rank calls this with the
 * same arguments (collective).  Rank r trains on its slice of every global
 * batch, one allreduce per step (src/train/step.h); rank 0 alone reads and
 * writes run_dir, validates and calls cb (the others call none), and sends
 * its state to all at the start and at every epoch end.  A failure on one
 * rank fails all: the others with VBP_E_IO and a detail starting
 * VBP_DIST_ECHO.  docs/training.md, "Training on a cluster".
 */
int vbp_train_run(const char *pack_path, const char *run_dir, const vbp_train_config *cfg,
                  const vbp_train_callbacks *cb, vbp_train_summary *summary, vbp_error *err);

/* Options of vbp_eval_run and vbp_predict_run. */
typedef struct vbp_eval_config {
    uint32_t splits;      /* VBP_SPLIT_BIT mask (val) */
    float tol;            /* 4 */
    float threshold;      /* detection threshold on the heatmap; 0: the weights' (vbp_weights_threshold) */
    uint32_t batch;       /* windows per forward (4) */
    uint32_t threads;     /* network threads; 0 = OpenMP's default */
    vbp_load_mode mode;
    vbp_target target;    /* targets of the loss (AUTO = VBP_TRAIN_TARGET_DEFAULT); metrics do not use them */
    uint32_t target_cut;  /* 0 = VBP_TARGET_CUT_DEFAULT */
    const char *overlay_dir; /* predict: also pictures of the predictions here (NULL = none) */
    vbp_counts *clip_counts; /* NULL, or clip_count entries indexed like the pack's clips: each set
                                to the counts of that clip's frames (zero for clips not evaluated) */
    uint64_t clip_count;     /* entries of clip_counts: the pack's clip_count, else VBP_E_ARG */
} vbp_eval_config;

void vbp_eval_config_default(vbp_eval_config *cfg);

/*
 * The network a weights file was trained as (vbp_net_weights_config), with its frame
 * channels and whether it takes a background frame, both from the tensors' shapes:
 * in_channels = seq * C, or (seq + 1) * C with the background (*background = 1), C 1 or 3,
 * seq = out_channels (the two never coincide).  VBP_E_FORMAT naming the file otherwise.
 */
int vbp_weights_net(const char *weights, vbp_net_config *cfg, uint32_t *channels,
                    uint32_t *background, vbp_error *err);

/*
 * The detection threshold of a run: `asked` when positive (--threshold), else
 * the weights' metadata "threshold" (docs/model.md: each shipped model's,
 * chosen on its training clips), else VBP_DETECT_THRESHOLD.  VBP_E_IO, or
 * VBP_E_FORMAT naming the file when the metadata is not in (0, 1).
 */
int vbp_weights_threshold(const char *weights, float asked, float *out, vbp_error *err);

/* Evaluate the weights on the selected splits of a pack. */
int vbp_eval_run(const char *pack_path, const char *weights, const vbp_eval_config *cfg,
                 vbp_eval_result *out, vbp_error *err);

/*
 * Predict every frame of every clip of the selected splits and write
 * out_dir/<clip>_ball.csv (out_dir/<group>/<clip>_ball.csv when the clip has
 * a group), header Frame,Visibility,X,Y, X,Y rounded to integer pack pixels,
 * -1,-1 when not visible; frames of clips shorter than seq are written as not
 * visible.  Each CSV is written atomically.  out (may be NULL) gets the
 * metrics of the same predictions.  With cfg->overlay_dir, every predicted
 * frame is also drawn with the predicted ball (red) and the labelled one
 * (green) as overlay_dir[/<group>]/<clip>/NNNNNN.png, plus a contact sheet
 * overlay_dir[/<group>]/<clip>_sheet.png per clip (docs/training.md).
 * Names come from the pack: a selected clip whose match or name is not one
 * path component ('/', ".", "..": it would write outside out_dir) fails with
 * VBP_E_INPUT naming it, before anything is written.
 */
int vbp_predict_run(const char *pack_path, const char *weights, const char *out_dir,
                    const vbp_eval_config *cfg, vbp_eval_result *out, vbp_error *err);

/* Options of vbp_track_run. */
typedef struct vbp_track_config {
    uint32_t width, height;  /* frames as the network sees them (512 x 288), shrunk from the video */
    uint32_t batch;          /* windows per forward (4) */
    uint32_t threads;        /* network threads; 0 = OpenMP's default */
    float threshold;         /* detection threshold on the heatmap; 0: the weights' */
    const char *overlay;     /* also this video (H.264) with the ball marked; NULL = none */
    vbp_progress_fn progress; /* (frames done, frames the container lists or 0); may be NULL */
    void *progress_ctx;
    const volatile int *stop; /* polled per frame: non-zero stops with VBP_E_INTERRUPTED */
} vbp_track_config;

typedef struct vbp_track_result {
    uint64_t frames, visible;    /* frames read and tracked; with a ball */
    float threshold;             /* of the detections */
    uint32_t video_width, video_height, fps_num, fps_den;
    double seconds;              /* wall time of the whole run */
    double decode_seconds;       /* of it: decoding and shrinking frames */
    double net_seconds;          /* the network and blob detection */
    double overlay_seconds;      /* drawing and encoding the overlay */
} vbp_track_result;

void vbp_track_config_default(vbp_track_config *cfg);

/*
 * Track the ball in a video with a trained model, streaming: frames are
 * decoded and shrunk as vbpack packs them (vbp_video.h), grouped in the
 * windows of seq frames eval and predict use (every window of stride 1),
 * run through the network in inference mode, and the ball found as eval
 * and predict find it: vbp_detect on each frame's heatmap averaged over
 * the windows that hold it, at the threshold of vbp_weights_threshold.  Writes csv_path
 * (Frame,Visibility,X,Y, one row per frame, X and Y in the video's own
 * pixels: x * video_width / width, rounded) atomically; with cfg->overlay
 * also a video of the frames at their own size with the ball marked (red
 * ring and cross).  Nothing is left at either path on failure.  Fails with
 * VBP_E_IO / VBP_E_INPUT naming the video (unreadable, empty, damaged),
 * VBP_E_GEOMETRY (a video smaller than width x height, or of fewer frames
 * than seq), VBP_E_FORMAT (weights), VBP_E_UNSUPPORTED (no FFmpeg),
 * VBP_E_INTERRUPTED.  res may be NULL.
 */
int vbp_track_run(const char *video, const char *weights, const char *csv_path,
                  const vbp_track_config *cfg, vbp_track_result *res, vbp_error *err);

/*
 * Draw the learning curve of metrics.jsonl (the lines vbp_epoch_report_json
 * writes) as a VBP_PLOT_WIDTH x VBP_PLOT_HEIGHT RGB PNG at png_path
 * (atomically): above, train loss and val loss per epoch on a log scale
 * (whole decades around the values, rows LOSS_TOP..LOSS_BOTTOM); below, val
 * F1 on rows y = round(F1_BOTTOM - F1 * (F1_BOTTOM - F1_TOP)).  Epoch e of
 * E >= 2 is at x = round(X0 + (e-1) * (X1-X0) / (E-1)) (the middle for one
 * epoch).  Lines are 2 px thick (rows y and y+1 of a flat stretch), with a
 * 5x5 dot at each value; null values are left out.  VBP_E_IO (cannot read),
 * VBP_E_FORMAT ("PATH: line N is not a metrics line (...)", "no epochs").
 */
#define VBP_PLOT_WIDTH 800
#define VBP_PLOT_HEIGHT 500
#define VBP_PLOT_X0 70
#define VBP_PLOT_X1 780
#define VBP_PLOT_LOSS_TOP 30
#define VBP_PLOT_LOSS_BOTTOM 230
#define VBP_PLOT_F1_TOP 280
#define VBP_PLOT_F1_BOTTOM 450
#define VBP_PLOT_TRAIN_RGB 31, 119, 180 /* blue */
#define VBP_PLOT_VAL_RGB 255, 127, 14   /* orange */
#define VBP_PLOT_F1_RGB 44, 160, 44     /* green */
int vbp_plot_metrics(const char *metrics_path, const char *png_path, vbp_error *err);

/*
 * One-line JSON of an evaluation ({"skipped_clips":..,"loss":..,"windows":..,
 * "frames":..,"tp":..,...,"f1":..,"accuracy":..,"seconds":..}) and of an
 * epoch (the metrics.jsonl line; "val" holds the evaluation object or null).
 * Written into buf (NUL-terminated when size > 0; buf may be NULL when size
 * is 0); returns the length needed, like snprintf.
 */
size_t vbp_eval_result_json(const vbp_eval_result *e, char *buf, size_t size);
size_t vbp_epoch_report_json(const vbp_epoch_report *r, char *buf, size_t size);
/*
 * The object of vbp_eval_result_json with one more key, "clips": an array of
 * {"clip":"group/name" (or "name"),"split":"val","frames":..,"tp":..,"tn":..,"fp1":..,"fp2":..,
 * "fn":..,"precision":..,"recall":..,"f1":..,"accuracy":..} for every clip of pack with counted
 * frames, in pack order; clip_counts as filled by an evaluation (vbp_eval_config.clip_counts).
 */
size_t vbp_eval_clips_json(const vbp_eval_result *e, const vbp_pack *pack,
                           const vbp_counts *clip_counts, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif

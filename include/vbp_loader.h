/*
 * vbp_loader.h - training samples from a pack: windows, epoch orders,
 * float32 batches, prefetch and a measured memory report.
 *
 * A sample is a window of `seq` consecutive frames of one clip (never across
 * clips); window starts advance by `stride` within the clip.  Its input is
 * the seq frames, its target the seq heatmaps of the same frames.
 *
 * Batches are float32, channels first, values v / 255.0f of the stored uint8:
 *   x: N, seq*C, H, W   frame 0's C planes, then frame 1's, ... (RGB planar)
 *   y: N, seq,   H, W   heatmap of frame 0, 1, ...
 * With opts.background, x is N, (seq+1)*C, H, W: after the seq frames, the
 * C planes of the clip's background frame, TrackNetV3's extra input: per
 * byte the median of up to 128 frames spread over the clip (every s-th
 * frame from frame 0, s the smallest power of two that leaves at most 128;
 * the lower median of an even count), computed once per clip at open.  It
 * is flipped, shifted and jittered with the window's frames, as one of them.
 * Heatmaps are the target: v / 255.0f (VBP_TARGET_SOFT) or, with
 * VBP_TARGET_BINARY, exactly 1.0f where v >= target_cut and 0.0f elsewhere.
 * A horizontally flipped sample has every frame plane and every heatmap
 * mirrored (column w takes column W-1-w); the flip is applied while
 * converting, with no intermediate copy.  So are the augmentations (each
 * off by default): brightness/contrast jitter of the frames (the same gain
 * and bias for every frame of a window; heatmaps untouched) and a shift of
 * frames and heatmaps together by (dx, dy) whole pixels, zero fill:
 *   x'(c, y, x) = clamp(gain * x(c, y - dy, x - dx) + bias, 0, 1), 0 outside
 *   y'(y, x)    = y(y - dy, x - dx), 0 outside
 * where x and y are the (flipped, when flipped) converted values.
 *
 * The pack is read through its read-only mapping, so "preload" and "disk"
 * share every line of batch code and differ only in hints to the kernel;
 * several processes on one pack share one copy in the page cache.
 *
 * Determinism: the order of an epoch and the flip and augmentation of each
 * sample depend only on (seed, epoch, position); batches are bit-identical whatever the number
 * of worker threads, the mode, the codec (raw or lz4) or where a run resumed.
 */
#ifndef VBP_LOADER_H
#define VBP_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"
#include "vbp_memlimit.h"
#include "vbp_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vbp_load_mode {
    VBP_LOAD_DISK = 0,    /* default: pages fault in lazily; readahead + WILLNEED ahead of use */
    VBP_LOAD_PRELOAD = 1  /* populate the whole pack before the first batch; mlock if permitted
                             and it leaves room to spare; when the pack exceeds the memory it
                             may use (shape->memory_limit), DISK is used instead (shape->mode
                             says so, vbp_loader_note why) */
} vbp_load_mode;

typedef enum vbp_order {
    VBP_ORDER_AUTO = 0,       /* SHUFFLE if the selected data fits in memory, else LOCALITY */
    VBP_ORDER_SHUFFLE = 1,    /* uniform permutation from (seed, epoch) */
    VBP_ORDER_SEQUENTIAL = 2, /* sample 0, 1, 2, ... (evaluation) */
    VBP_ORDER_LOCALITY = 3    /* shuffled blocks of neighbouring windows, shuffled within a
                                 group of open blocks (quasi-random, for packs larger than RAM) */
} vbp_order;

/* What the heatmaps of a batch hold (y). */
typedef enum vbp_target {
    VBP_TARGET_AUTO = 0,   /* VBP_TARGET_DEFAULT (vbp_train_run: the recorded one on --resume) */
    VBP_TARGET_SOFT = 1,   /* v / 255: the stored Gaussian */
    VBP_TARGET_BINARY = 2  /* 1 where v >= target_cut, else 0: a disc */
} vbp_target;

/* The loader's AUTO: the heatmaps as stored (the trainer's default is VBP_TRAIN_TARGET_DEFAULT). */
#define VBP_TARGET_DEFAULT VBP_TARGET_SOFT
/* Default binary cut: a quarter of the peak (a disc of radius ~5 px for sigma-3 Gaussians;
 * measured against 128, half the peak, in docs/model.md). */
#define VBP_TARGET_CUT_DEFAULT 64u

/* Bit of vbp_loader_opts.splits for split s. */
#define VBP_SPLIT_BIT(s) (1u << (unsigned)(s))

typedef struct vbp_loader_opts {
    uint32_t seq;          /* frames per window, >= 1 (default 3) */
    uint32_t stride;       /* step between window starts in a clip, >= 1 (default 1) */
    uint32_t channels;     /* frame channels the caller expects, 1 or 3; 0 = the pack's */
    uint32_t height, width;/* expected geometry; 0 = the pack's */
    uint32_t splits;       /* VBP_SPLIT_BIT mask; default train only */
    vbp_load_mode mode;    /* default VBP_LOAD_DISK */
    vbp_order order;       /* default VBP_ORDER_AUTO */
    uint64_t seed;         /* default 0 */
    float flip_prob;       /* probability of a horizontal flip per sample; 0 for evaluation */
    vbp_target target;     /* heatmap values in y; default AUTO (= VBP_TARGET_DEFAULT) */
    uint32_t target_cut;   /* BINARY: v >= target_cut is 1; 1..255, 0 = VBP_TARGET_CUT_DEFAULT */
    float brightness;      /* frame bias uniform in [-brightness, brightness], 0..1; 0 = off */
    float contrast;        /* frame gain uniform in [1-contrast, 1+contrast], 0..1; 0 = off */
    uint32_t shift;        /* dx, dy uniform integers in [-shift, shift] (<= 1024); 0 = off */
    uint32_t batch;        /* samples per batch, >= 1 (default 4) */
    int drop_last;         /* 1: an epoch has only full batches (default 0: last may be short) */
    uint32_t threads;      /* worker threads assembling ahead; 0 = assemble inside next() */
    uint32_t prefetch;     /* batches assembled ahead with threads > 0; 0 = 2 */
    uint64_t memory_limit; /* bytes of memory the pack may use; 0 = measured: what the process
                              may use for page cache (vbp_memlimit_read: MemAvailable or the
                              cgroup's limit) minus reserve_bytes and the loader's own buffers */
    uint32_t block_samples;/* LOCALITY block size in windows; 0 = about 16 MiB of records */
    uint32_t open_blocks;  /* LOCALITY blocks shuffled together; 0 = from memory_limit (2..64) */
    uint32_t part, parts;  /* parts > 1: of every batch only slice `part` (< parts) is assembled,
                              the positions vbp_loader_part gives (data-parallel training: one
                              process per part); 0 or 1 = whole batches (default) */
    uint64_t reserve_bytes;/* with memory_limit 0: memory the caller needs besides the loader and
                              the pack (a trainer's network), kept out of the pack's share */
    const vbp_memlimit *limit; /* with memory_limit 0: the limits as the caller read them before
                              its own allocations (kept for the call only); NULL = read at open */
    uint32_t background;   /* 1: x holds each clip's background frame after the window's frames
                              (the median of its frames, computed at open; see below); 0 = off */
} vbp_loader_opts;

/* Fill o with the defaults above. */
void vbp_loader_opts_default(vbp_loader_opts *o);

/*
 * Slice `part` of `parts` of a batch of n samples: positions [*lo, *hi) with
 * *lo = floor(part * n / parts), *hi = floor((part + 1) * n / parts).  The
 * slices are consecutive, cover the batch and differ in size by at most one
 * (a slice is empty when n < parts).  Slice p*K+k of parts*K lies inside
 * slice p of parts, so a process can split its slice further the same way.
 * parts 0 or 1: the whole batch.
 */
void vbp_loader_part(size_t n, uint32_t part, uint32_t parts, size_t *lo, size_t *hi);

typedef struct vbp_loader vbp_loader;

/*
 * Open a loader over `pack` (borrowed: it must outlive the loader).
 * Checks the geometry against opts (VBP_E_GEOMETRY, e.g. "PACK: pack frames
 * are gray (1 channel), the loader asks for 3 (RGB)"), builds the sample
 * index of the selected splits (VBP_E_GEOMETRY when no clip of them has seq
 * frames, or, with drop_last, fewer windows than one batch), chooses the
 * order (AUTO), applies the mode (PRELOAD populates the mapping now; a
 * refused mlock is not an error, see vbp_loader_note) and starts the worker
 * threads.  VBP_E_ARG for invalid options.  The first epoch is 0, from batch
 * 0 (as if vbp_loader_begin_epoch(ld, 0, 0) was called).  Several loaders
 * may share one pack (e.g. train and val); mode hints apply to the whole
 * mapping, and close undoes a preload's mlock.  A loader does not survive
 * fork() (its workers stay in the parent): each process opens its own, and
 * the processes still share one copy of the pack in the page cache.
 */
int vbp_loader_open(vbp_pack *pack, const vbp_loader_opts *opts, vbp_loader **out,
                    vbp_error *err);
/* Same, opening the pack at `path` first; the loader then owns and closes it. */
int vbp_loader_open_path(const char *path, const vbp_loader_opts *opts, vbp_loader **out,
                         vbp_error *err);
/* Stop the workers, free everything (and close the pack if the loader opened it). NULL ok. */
void vbp_loader_close(vbp_loader *ld);

/* Shape and size facts, fixed at open. */
typedef struct vbp_loader_shape {
    uint32_t seq, channels, height, width;
    uint32_t batch;            /* samples per full batch */
    uint64_t samples;          /* windows in the selected splits */
    uint64_t batches;          /* batches per epoch (drop_last respected) */
    size_t x_floats;           /* floats of x per sample: (seq+background)*channels*height*width */
    size_t y_floats;           /* floats of y per sample: seq*height*width */
    vbp_order order;           /* the order in effect (never AUTO) */
    vbp_load_mode mode;
    uint64_t data_bytes;       /* stored bytes of the selected splits' records */
    uint64_t memory_limit;     /* what the pack may use: the limit the AUTO choice compared
                                  data_bytes with and a preload is checked against */
    vbp_memlimit_source memory_source; /* where it comes from (CALLER: opts.memory_limit) */
    uint32_t background;       /* opts.background: x ends with the clip's background frame */
} vbp_loader_shape;
const vbp_loader_shape *vbp_loader_get_shape(const vbp_loader *ld);
const vbp_pack *vbp_loader_pack(const vbp_loader *ld);

/*
 * Upper bound of the memory a loader opened on `pack` with `opts` allocates
 * for itself: its batch slots ((prefetch + 1) x batch x the float32 sample),
 * a row of lz4 scratch per thread, the sample index and epoch order
 * (12 bytes per window), and with opts.background one frame per clip.  What a caller adds to its own needs when it plans
 * against a memory limit; vbp_loader_open keeps it out of the pack's share.
 */
uint64_t vbp_loader_buffer_bytes(const vbp_pack *pack, const vbp_loader_opts *opts);

/* Number of samples (windows) in the selected splits; same as shape->samples. */
uint64_t vbp_loader_num_samples(const vbp_loader *ld);

/* Augmentation of one sample beyond the flip (see the top of this file). */
typedef struct vbp_augment {
    float gain, bias;     /* frames: clamp(gain * v + bias, 0, 1); 1, 0 = unchanged */
    int32_t dx, dy;       /* translation of frames and heatmaps in pixels; 0, 0 = none */
} vbp_augment;

/* Where one sample comes from. */
typedef struct vbp_sample {
    uint64_t sample;      /* loader sample id, < num_samples */
    uint64_t clip;        /* clip index in the pack */
    uint64_t first_frame; /* global frame index of the window's first frame */
    uint64_t clip_frame;  /* the same frame's number within its clip */
    int flip;             /* 1 when mirrored in this batch */
    vbp_augment aug;      /* as applied in this batch (1, 0, 0, 0 when off) */
} vbp_sample;

/*
 * Map sample id -> (clip, first frame) in O(1) (a 4-byte clip id per sample).
 * Returns VBP_E_ARG when sample >= num_samples.  out->flip is 0, out->aug none.
 */
int vbp_loader_sample(const vbp_loader *ld, uint64_t sample, vbp_sample *out);

/*
 * Sample ids of epoch `epoch` in the order they will be served, into
 * out[0 .. num_samples-1].  Reproducible from (seed, epoch); a permutation of
 * 0..num_samples-1 for every order.
 */
int vbp_loader_epoch_order(const vbp_loader *ld, uint64_t epoch, uint64_t *out, vbp_error *err);

/*
 * Flip decision of the sample served at `position` of epoch `epoch`
 * (0 or 1); depends only on (seed, epoch, position) and flip_prob.
 */
int vbp_loader_flip(const vbp_loader *ld, uint64_t epoch, uint64_t position);

/*
 * Augmentation of the sample served at `position` of epoch `epoch`: gain,
 * bias, dx, dy drawn from (seed, epoch, position) within the ranges of the
 * options; 1, 0, 0, 0 for the options that are off.
 */
vbp_augment vbp_loader_augment(const vbp_loader *ld, uint64_t epoch, uint64_t position);

/*
 * Start (or resume) epoch `epoch` at batch `start_batch` (0 = beginning).
 * Batches served afterwards are exactly those an uninterrupted run would
 * serve at (epoch, start_batch), (epoch, start_batch+1), ...  Discards any
 * batch prefetched for the previous position.  VBP_E_ARG if start_batch >
 * batches.
 */
int vbp_loader_begin_epoch(vbp_loader *ld, uint64_t epoch, uint64_t start_batch, vbp_error *err);

/* One batch (or with opts.parts > 1 this process's slice of it) as served by vbp_loader_next. */
typedef struct vbp_batch {
    uint64_t epoch, index;     /* batch `index` of epoch `epoch` */
    size_t n;                  /* samples in x, y, samples (< batch only for a short last one,
                                  or a slice; a slice may be empty) */
    size_t batch_n;            /* samples of the whole batch (n without parts) */
    size_t first;              /* position in the batch of sample 0 of this slice (0 without parts) */
    float *x;                  /* n * x_floats, layout above; the caller may modify it */
    float *y;                  /* n * y_floats */
    const vbp_sample *samples; /* n entries: sample id, clip, first frame, flip */
} vbp_batch;

/*
 * Next batch of the current epoch.  Returns out->batch_n > 0 (the whole
 * batch's size; out->n, its slice with opts.parts, may be 0) and fills *out; returns 0
 * at the end of the epoch (call vbp_loader_begin_epoch for the next one); a
 * negative vbp_errcode when a record cannot be read or decoded (VBP_E_CODEC,
 * VBP_E_FORMAT).  out->x, out->y and out->samples are owned by the loader and
 * stay valid until the next call of next, begin_epoch or close.  With threads
 * > 0 the batch was assembled ahead by a worker; the time this call blocks is
 * added to vbp_loader_wait_seconds (with threads = 0 the assembly time is).
 * After an error the next call serves the following batch.  next and
 * begin_epoch (and wait_seconds) are called from one thread, the trainer's;
 * sample, epoch_order, flip, assemble, memory and get_shape from any.
 */
int vbp_loader_next(vbp_loader *ld, vbp_batch *out, vbp_error *err);

/* Total seconds vbp_loader_next has blocked the caller since open. */
double vbp_loader_wait_seconds(const vbp_loader *ld);

/*
 * The one batch code path: assemble samples[0..n-1] into caller-owned x
 * (n * x_floats) and y (n * y_floats), mirroring sample i when flips[i] != 0
 * (flips may be NULL: none).  LZ4 records are decoded into a scratch row and
 * converted from there.  The workers and vbp_loader_next assemble through the
 * same per-sample code, so this reproduces any served batch from its
 * samples[].sample and .flip.  Thread-safe.  VBP_E_ARG for an out-of-range
 * sample id.
 */
int vbp_loader_assemble(const vbp_loader *ld, const uint64_t *samples, const uint8_t *flips,
                        size_t n, float *x, float *y, vbp_error *err);
/* Same, augmenting sample i with augs[i] (augs may be NULL: none); reproduces a
 * served batch from its samples[].sample, .flip and .aug. */
int vbp_loader_assemble_aug(const vbp_loader *ld, const uint64_t *samples, const uint8_t *flips,
                            const vbp_augment *augs, size_t n, float *x, float *y,
                            vbp_error *err);

/*
 * One line about the mode, e.g. "preload: 120.0 MiB populated in 0.05 s and
 * locked", "preload: ...; mlock refused (..., RLIMIT_MEMLOCK 8.0 MiB): ...",
 * "preload skipped: the pack (533.0 MiB) does not fit in the 280.0 MiB left
 * for it of what this process may use (cgroup v1 memory.limit_in_bytes
 * 400.0 MiB of DIR, 8.0 MiB in use; 112.0 MiB for the caller and the batch
 * buffers); disk: ..." (docs/loading.md).
 */
const char *vbp_loader_note(const vbp_loader *ld);

/* Memory facts, measured when asked (mincore, /proc), not estimated. */
typedef struct vbp_memreport {
    uint64_t pack_bytes;            /* size of the pack file (the mapping) */
    uint64_t data_bytes;            /* stored bytes of the selected splits' records */
    uint64_t resident_bytes;        /* pages of the mapping resident in the page cache (mincore) */
    uint64_t mapped_rss_bytes;      /* of those, mapped into this process (smaps Rss) */
    uint64_t mapped_pss_bytes;      /* this process's proportional share (smaps Pss): about
                                       mapped_rss / k when k processes map the same pages */
    uint64_t locked_bytes;          /* mlocked by the loader (preload), 0 otherwise */
    uint64_t rss_bytes;             /* process resident set (VmRSS), mapped pack pages included */
    uint64_t anon_rss_bytes;        /* of which anonymous memory (RssAnon): what can run out */
    uint64_t peak_rss_bytes;        /* process peak resident set (VmHWM) */
    uint64_t float32_bytes;         /* the selected frames and heatmaps as float32, each once */
    uint64_t float32_window_bytes;  /* as float32 per window (a window-wise preload: seq x) */
    uint64_t saving_bytes;          /* float32_bytes - data_bytes (0 if negative) */
    uint64_t mem_available_bytes;   /* MemAvailable from /proc/meminfo */
    vbp_memlimit limit;             /* what this process may still use, and which limit applies */
} vbp_memreport;

/* Measure now.  VBP_E_IO when /proc cannot be read. */
int vbp_loader_memory(const vbp_loader *ld, vbp_memreport *out, vbp_error *err);

/*
 * Human-readable multi-line report into buf (always NUL-terminated when
 * size > 0).  Returns the length it needed, like snprintf.
 */
size_t vbp_memreport_format(const vbp_memreport *m, char *buf, size_t size);

const char *vbp_order_name(vbp_order o);   /* "auto", "shuffle", "sequential", "locality" */
const char *vbp_target_name(vbp_target t);                 /* "auto", "soft", "binary" */
int vbp_target_parse(const char *s, vbp_target *out);       /* VBP_OK or VBP_E_ARG */
int vbp_order_parse(const char *s, vbp_order *out);        /* VBP_OK or VBP_E_ARG */
const char *vbp_load_mode_name(vbp_load_mode m);           /* "disk", "preload" */
int vbp_load_mode_parse(const char *s, vbp_load_mode *out); /* VBP_OK or VBP_E_ARG */

#ifdef __cplusplus
}
#endif
#endif

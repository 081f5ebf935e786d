/*
 * vbp_build.h - building a pack from preprocessed frame directories.
 *
 * Reads one or more dataset roots in either public layout (TrackNetV4:
 * ROOT/<match>/{inputs,heatmaps}/<clip>/<N>.png [+ csv/<clip>_ball.csv];
 * VballNet: ROOT/<clip>/<N>.png + ROOT/<clip>_ball.csv, heatmaps drawn from
 * the labels), decodes the PNGs on worker threads and writes them in a fixed
 * order through the vbp_writer API, so the pack is byte-identical whatever the
 * thread count.  docs/packing.md describes every rule.
 */
#ifndef VBP_BUILD_H
#define VBP_BUILD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "vbp_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vbp_layout {
    VBP_LAYOUT_AUTO = 0,
    VBP_LAYOUT_TRACKNETV4 = 1, /* ROOT/<match>/inputs|heatmaps/<clip>/<N>.png */
    VBP_LAYOUT_VBALLNET = 2    /* ROOT/<clip>/<N>.png + ROOT/<clip>_ball.csv */
} vbp_layout;

typedef enum vbp_heatmap_kind {
    VBP_HEATMAP_KIND_DISC = 0,    /* filled disc of value 255 (VballNet TF trainer) */
    VBP_HEATMAP_KIND_GAUSSIAN = 1 /* Gaussian with peak 255 (TrackNetV4 preprocessor) */
} vbp_heatmap_kind;

/* One input root and the split its clips go to (unless named by val/test_names). */
typedef struct vbp_build_source {
    const char *root;
    vbp_split split;
} vbp_build_source;

typedef struct vbp_build_opts {
    const vbp_build_source *sources;
    size_t source_count;
    /* Clips sent to val / test by name, by the rule of vbp_names.h: "match/clip", "/clip",
     * "match/" or a bare clip or match name that fits one clip or match alone. */
    const char *const *val_names;
    size_t val_count;
    const char *const *test_names;
    size_t test_count;
    vbp_layout layout;          /* AUTO: detected per root */
    uint32_t width, height;     /* every frame and heatmap must have this size */
    uint32_t frame_channels;    /* 1 (gray, OpenCV RGB2GRAY) or 3 (RGB) */
    vbp_codec codec;
    vbp_heatmap_kind heatmap;   /* how heatmaps are drawn for the vballnet layout */
    float radius;               /* disc radius, pixels */
    float sigma;                /* Gaussian sigma, pixels */
    unsigned threads;           /* decoding threads; 0 = online cores */
    int overwrite;              /* replace an existing pack */
    vbp_progress_fn progress;   /* (done, total) frames; may be NULL */
    void *progress_ctx;
    /* Polled between records; when it becomes non-zero the build stops with VBP_E_INTERRUPTED. */
    const volatile sig_atomic_t *cancel;
} vbp_build_opts;

typedef struct vbp_build_stats {
    uint64_t clips, frames;
    uint64_t clips_per_split[VBP_SPLIT_COUNT], frames_per_split[VBP_SPLIT_COUNT];
    uint64_t labelled_clips;   /* clips whose labels were stored */
    uint64_t input_bytes;      /* PNG and CSV bytes read */
    uint64_t pixel_bytes;      /* decoded bytes written as records (before lz4) */
    uint64_t pack_bytes;       /* size of the finished pack */
    unsigned threads;          /* threads actually used */
    double seconds;            /* wall time from scan to rename */
} vbp_build_stats;

/* Defaults: 512x288 RGB, raw, auto layout, disc radius 3, sigma 3, all cores. */
void vbp_build_opts_init(vbp_build_opts *opts);

/*
 * Scan the sources, decode everything and write the pack at `out_path`
 * atomically.  On any failure nothing is left at out_path (the writer is
 * aborted) and err names the file and the problem: VBP_E_INPUT (corrupt PNG,
 * bad CSV row, gap in frame numbers, count mismatch, no clips),
 * VBP_E_GEOMETRY (frame size, heatmap channels), VBP_E_IO, VBP_E_EXISTS,
 * VBP_E_ARG (options; a val/test name that fits no clip or several, listing
 * them; a name that would move a clip out of val or test),
 * VBP_E_INTERRUPTED.  Names are checked before anything is written.  stats
 * may be NULL.
 */
int vbp_build_pack(const char *out_path, const vbp_build_opts *opts, vbp_build_stats *stats,
                   vbp_error *err);

const char *vbp_layout_name(vbp_layout layout); /* "auto", "tracknetv4", "vballnet" */
int vbp_layout_parse(const char *s, vbp_layout *out); /* VBP_OK or VBP_E_ARG */

#ifdef __cplusplus
}
#endif
#endif

/*
 * vbp_dataset.h - finding clips, frames, heatmaps and labels under a
 * dataset root in any of the four layouts (what vbp_build_pack reads): two
 * of PNG directories, two of videos with label CSVs.
 */
#ifndef VBP_DATASET_H
#define VBP_DATASET_H

#include <stddef.h>
#include "vbp_build.h"
#include "vbp_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vbp_source_clip {
    char name[VBP_NAME_MAX];
    char group[VBP_NAME_MAX]; /* match; "" in the vballnet layout */
    vbp_split split;
    size_t frame_count;       /* a video's: its frames, counted by vbp_video_probe */
    char **frames;            /* frame_count paths, frame order; NULL for a video */
    char **heatmaps;          /* frame_count paths, or NULL: drawn from labels */
    vbp_label *labels;        /* frame_count labels, or NULL: no CSV.  Image clips: pixels of
                                 the images; video clips: fractions of the video's frame
                                 (x / width), which the packer scales to the pack's size */
    char *video;              /* the video its frames are decoded from, or NULL (PNGs) */
    vbp_clip_source source;   /* the video's size and frame rate; zero for PNG clips */
} vbp_source_clip;

typedef struct vbp_dataset {
    vbp_source_clip *clips;
    size_t count, cap;
} vbp_dataset;

/*
 * Append the clips under `root` to ds, all in `split`, matches and clips
 * sorted by name (strcmp).  `layout` AUTO detects it; *used (may be NULL)
 * gets the layout read.  Frame files are <N>.png sorted numerically and must
 * be 0..N-1; heatmaps must match the frames one to one; a labels CSV must
 * have one row per frame (for a video: per frame its container holds,
 * counted by vbp_video_probe).  Fails with VBP_E_INPUT naming the directory
 * or file (gap, count mismatch, bad CSV row, no clips, name longer than 63
 * bytes, unreadable video), VBP_E_IO, VBP_E_UNSUPPORTED (a video layout in a
 * build without FFmpeg).  On failure ds keeps the clips appended before.
 */
int vbp_dataset_scan(vbp_dataset *ds, const char *root, vbp_layout layout, vbp_split split,
                     vbp_layout *used, vbp_error *err);

/* Free everything ds holds; ds is left empty. */
void vbp_dataset_free(vbp_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif

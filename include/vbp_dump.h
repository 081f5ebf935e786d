/*
 * vbp_dump.h - what vbdump prints, as library code: reports on an open pack.
 *
 * Each function writes one report about an open pack to `out`, as aligned
 * text or (json != 0) as one JSON object, and returns a vbp_errcode.
 */
#ifndef VBP_DUMP_H
#define VBP_DUMP_H

#include <stdint.h>
#include <stdio.h>
#include "vbp_pack.h"

/*
 * Bytes that users' trainers spend on this pack (the table of
 * memory-note.md): per frame, heatmap and window of `seq` frames with their
 * heatmaps, in uint8 and float32, and what preloading costs: every frame and
 * heatmap once, or every window materialised (what per-sequence preloading
 * builds: windows * seq * (frame + heatmap)).
 */
#ifdef __cplusplus
extern "C" {
#endif

typedef struct vbp_memory {
    uint32_t seq;
    uint64_t frame, heatmap, sequence;   /* uint8 bytes; float32 is 4x */
    uint64_t windows;                    /* windows of seq frames that fit inside clips */
    uint64_t preload_frames;             /* frame_count * (frame + heatmap), uint8 */
    uint64_t preload_windows;            /* windows * sequence, uint8 */
    uint64_t mapped;                     /* file size: what mmap of the pack can cache */
} vbp_memory;

void vbp_pack_memory(const vbp_pack *pack, uint32_t seq, vbp_memory *out);

int vbp_dump_info(FILE *out, const vbp_pack *pack, uint32_t seq, int json);
int vbp_dump_clips(FILE *out, const vbp_pack *pack, int json);
/* Frame index rows of clip `clip` (an index < clip_count). */
int vbp_dump_frames(FILE *out, const vbp_pack *pack, uint64_t clip, int json);

/*
 * Frame (C planes) with the heatmap blended on it in red, as 3 planes of
 * w*h into rgb: alpha = 0.6 * heatmap / 255 towards pure red.
 */
void vbp_overlay_heatmap(const uint8_t *frame, uint32_t channels, const uint8_t *heatmap,
                         uint32_t width, uint32_t height, uint8_t *rgb);

#ifdef __cplusplus
}
#endif
#endif

/*
 * pack_fixture.h - a small deterministic pack for tests: three clips in three
 * splits, pseudo-random frames (some compressible, some not), sparse
 * heatmaps, labels of every kind.  Content is a pure function of
 * (clip, frame), so tests regenerate what they expect to read back.
 */
#ifndef VBP_PACK_FIXTURE_H
#define VBP_PACK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include "fixture.h"
#include "vbp_pack.h"

#define FIX_W 64u
#define FIX_H 48u
#define FIX_CLIPS 3

typedef struct fix_clip {
    const char *name, *group;
    vbp_split split;
    uint32_t frames;
} fix_clip;

extern const fix_clip fix_clips[FIX_CLIPS];

void fix_frame(uint32_t clip, uint32_t i, uint32_t channels, uint8_t *dst);
void fix_heatmap(uint32_t clip, uint32_t i, uint8_t *dst);
vbp_label fix_label(uint32_t clip, uint32_t i);

/* Write the fixture pack at path (format 1.0: no clip has a source); returns a vbp_errcode. */
int fix_write(const char *path, vbp_codec codec, uint32_t channels, int overwrite, vbp_error *err);
/* The same clips with the sources of fix_source (format 1.1). */
int fix_write_sourced(const char *path, vbp_codec codec, uint32_t channels, int overwrite,
                      vbp_error *err);
/* Clip c's source in the sourced fixture: two videos (one of unknown rate) and one PNG clip. */
vbp_clip_source fix_source(uint32_t clip);

/* Older names of the fixture.h helpers, still used by some tests. */
#define fix_tmpdir fx_tmpdir
#define fix_rmdir fx_rmtree
#define fix_slurp fx_read_all
#define fix_spit fx_write_file

#endif

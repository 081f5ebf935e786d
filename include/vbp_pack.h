/*
 * vbp_pack.h - the vbpack file: writer and zero-copy reader.
 *
 * A pack is one file: a fixed header, a clip table, a frame index and a data
 * section of uint8 records (frames channel-planar C,H,W; heatmaps 1,H,W).
 * The byte layout is specified in formats/vbpack.md; this header is the C API
 * over it.  All sizes and offsets are 64-bit.
 *
 * Reading maps the file read-only with mmap; a raw record is a pointer into
 * the mapping (no copy), an lz4 record is decoded into a caller buffer.
 * Opening validates the header, the section table and the whole index before
 * anything sized by the file's claims is allocated or touched.
 */
#ifndef VBP_PACK_H
#define VBP_PACK_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VBP_VERSION_MAJOR 1
#define VBP_VERSION_MINOR 0
#define VBP_ALIGN 4096u          /* raw records start on this boundary */
#define VBP_NAME_MAX 64          /* clip and group names, including the NUL */

typedef enum vbp_codec { VBP_CODEC_RAW = 0, VBP_CODEC_LZ4 = 1 } vbp_codec;
typedef enum vbp_split { VBP_SPLIT_TRAIN = 0, VBP_SPLIT_VAL = 1, VBP_SPLIT_TEST = 2 } vbp_split;
#define VBP_SPLIT_COUNT 3
typedef enum vbp_record_kind { VBP_REC_FRAME = 0, VBP_REC_HEATMAP = 1 } vbp_record_kind;

/* Label of one frame; visibility VBP_NO_LABEL when the source had no CSV. */
#define VBP_NO_LABEL 255u
typedef struct vbp_label {
    uint8_t visibility; /* 0 hidden, 1 visible, VBP_NO_LABEL unknown */
    float x, y;         /* pixels in the pack's geometry; -1 when hidden */
} vbp_label;

typedef struct vbp_geometry {
    uint32_t height, width;
    uint32_t frame_channels;   /* 1 (gray) or 3 (RGB) */
    uint32_t heatmap_channels; /* 1 */
} vbp_geometry;

/* Whole-pack facts, from the validated header. */
typedef struct vbp_pack_info {
    uint16_t version_major, version_minor;
    uint32_t flags;
    vbp_geometry geometry;
    vbp_codec default_codec;
    uint64_t clip_count, frame_count;
    uint64_t file_size;
    uint64_t data_offset, data_size;
    uint64_t frames_per_split[VBP_SPLIT_COUNT];
    uint64_t clips_per_split[VBP_SPLIT_COUNT];
    uint64_t fingerprint; /* XXH3-64 of the header: identifies the pack's content */
} vbp_pack_info;

typedef struct vbp_clip {
    char name[VBP_NAME_MAX];
    char group[VBP_NAME_MAX]; /* match name; "" when the layout has none */
    vbp_split split;
    uint64_t first_frame;     /* index of its first frame in the frame index */
    uint64_t frame_count;
} vbp_clip;

/* One record (a frame or a heatmap) as located by the index. */
typedef struct vbp_record {
    const uint8_t *stored;  /* points into the mapping */
    uint64_t stored_size;
    uint64_t raw_size;      /* bytes after decoding: C*H*W */
    uint64_t checksum;      /* XXH3-64 of the stored bytes */
    vbp_codec codec;
} vbp_record;

/* ------------------------------------------------------------------ reader */

typedef struct vbp_pack vbp_pack;

/*
 * Open and validate a pack.  On success *out owns the mapping.  Fails with
 * VBP_E_IO (cannot open/map), VBP_E_TRUNCATED, VBP_E_FORMAT, VBP_E_VERSION or
 * VBP_E_CHECKSUM (header or index); record checksums are checked by
 * vbp_pack_verify, not here.  err->detail names the problem.
 */
int vbp_pack_open(const char *path, vbp_pack **out, vbp_error *err);
void vbp_pack_close(vbp_pack *pack);

const vbp_pack_info *vbp_pack_get_info(const vbp_pack *pack);
const char *vbp_pack_path(const vbp_pack *pack);
/* The open file descriptor (read-only) the mapping was made from: for
 * posix_fadvise, pread or O_DIRECT re-opening; owned by the pack. */
int vbp_pack_fd(const vbp_pack *pack);
/* Base and length of the read-only mapping of the whole file. */
const uint8_t *vbp_pack_map(const vbp_pack *pack, size_t *size);

/* Clip i (i < clip_count) / NULL when out of range. */
const vbp_clip *vbp_pack_clip(const vbp_pack *pack, uint64_t i);
/*
 * The pack's clips as a vbp_name_set (vbp_names.h), for vbp_name_resolve:
 * how tools turn a user's clip or match name into clips.
 */
struct vbp_name_set;
void vbp_pack_name_set(const vbp_pack *pack, struct vbp_name_set *set);
/*
 * Index of the one clip `name` names by the rule of vbp_names.h
 * (VBP_NAME_ONE_CLIP): "match/clip", "/clip", a bare clip name that one clip
 * has, or a match of one clip.  -1 when it names nothing,
 * VBP_CLIP_AMBIGUOUS (-2) when it fits several clips or matches, or a match
 * of several clips.  vbp_name_resolve says which, in a message.
 */
#define VBP_CLIP_AMBIGUOUS (-2)
int64_t vbp_pack_find_clip(const vbp_pack *pack, const char *name);
/* Clip that holds global frame f, in O(log clips). */
uint64_t vbp_pack_clip_of_frame(const vbp_pack *pack, uint64_t f);

/* Locate record `kind` of global frame f.  Returns VBP_E_ARG when f is out of range. */
int vbp_pack_record(const vbp_pack *pack, uint64_t f, vbp_record_kind kind, vbp_record *out);
/* Label of global frame f (visibility VBP_NO_LABEL when the pack has none). */
vbp_label vbp_pack_label(const vbp_pack *pack, uint64_t f);

/*
 * Decode a record into dst (dst_size >= rec->raw_size): memcpy for raw, LZ4
 * for lz4.  Fails with VBP_E_CODEC when the stored bytes do not decode to
 * exactly raw_size bytes.
 */
int vbp_record_decode(const vbp_record *rec, uint8_t *dst, size_t dst_size, vbp_error *err);

/*
 * Check every byte that opening did not (formats/vbpack.md, "Verification"):
 * zero padding after the header, between records and after the data section
 * and the clip table; every record's checksum; every lz4 record decoded to
 * exactly its raw size.  Walks the file in order and names the first bad
 * byte: "PATH: offset N: clip 'NAME' frame I heatmap: checksum mismatch"
 * (VBP_E_CHECKSUM), "... lz4 block ... does not decode ..." (VBP_E_CODEC),
 * "... padding ...: byte 0x.., must be 0" (VBP_E_FORMAT), I within the clip.
 * `progress` (may be NULL) is called with (done, total) frames every 64
 * frames and at the end.  Fails with VBP_E_TRUNCATED or VBP_E_IO when the
 * file changes meanwhile (vbp_pack_check_unchanged, every 64 frames).
 */
typedef void (*vbp_progress_fn)(void *ctx, uint64_t done, uint64_t total);
int vbp_pack_verify(const vbp_pack *pack, vbp_progress_fn progress, void *ctx, vbp_error *err);

/*
 * Is the file still the one that was mapped?  Another process may truncate
 * or rewrite it in place; touching a mapped page past a new end raises
 * SIGBUS.  One fstat: VBP_OK, VBP_E_TRUNCATED ("PACK: file truncated while in
 * use") when it shrank, VBP_E_IO when its size or mtime changed otherwise.
 * vbp_pack_verify calls it every 64 frames, the loader before each sample;
 * programs also guard the mapping (vbp_guard.h) for the race in between.
 */
int vbp_pack_check_unchanged(const vbp_pack *pack, vbp_error *err);

/* ------------------------------------------------------------------ writer */

typedef struct vbp_writer vbp_writer;

typedef struct vbp_writer_opts {
    vbp_geometry geometry;
    vbp_codec codec;      /* VBP_CODEC_RAW or VBP_CODEC_LZ4 */
    int overwrite;        /* replace an existing file at path */
} vbp_writer_opts;

/*
 * Start a pack at `path`.  Everything goes to a temporary file beside it
 * ("path.tmp.<pid>"); only vbp_writer_finish makes the pack appear at path
 * (fsync + rename), so a failed or killed run leaves nothing there.
 * Fails with VBP_E_EXISTS when path exists and !opts->overwrite.
 */
int vbp_writer_open(const char *path, const vbp_writer_opts *opts, vbp_writer **out, vbp_error *err);

/* Clips are written one at a time: begin, all its frames, all its heatmaps, end. */
int vbp_writer_begin_clip(vbp_writer *w, const char *name, const char *group, vbp_split split, vbp_error *err);
/* `planar` is C,H,W uint8 in the writer's geometry; label may be NULL (no label). */
int vbp_writer_add_frame(vbp_writer *w, const uint8_t *planar, const vbp_label *label, vbp_error *err);
/* Heatmaps of the current clip, in frame order, after all its frames. */
int vbp_writer_add_heatmap(vbp_writer *w, const uint8_t *heatmap, vbp_error *err);
/* Fails with VBP_E_INPUT when the clip has no frames or heatmap count != frame count. */
int vbp_writer_end_clip(vbp_writer *w, vbp_error *err);

/*
 * Encoding a record apart from the writer, e.g. on decoding threads.
 *
 * vbp_record_encode is the one encoder add_frame/add_heatmap use: under
 * VBP_CODEC_LZ4 the raw_size bytes at src are compressed into `scratch` and
 * kept only when strictly smaller; otherwise (and always under VBP_CODEC_RAW)
 * out->stored is src itself (no copy).  It fills every field of *out,
 * checksum = XXH3-64 of the stored bytes.  Under lz4, scratch must hold
 * vbp_record_encode_bound(raw_size) bytes (scratch may be NULL under raw).
 * out points into src or scratch: keep both alive until the record is added.
 * Thread-safe; fails with VBP_E_ARG on bad arguments.
 */
size_t vbp_record_encode_bound(uint64_t raw_size); /* 0 when raw_size is 0 or too big for lz4 */
int vbp_record_encode(vbp_codec codec, const uint8_t *src, uint64_t raw_size, uint8_t *scratch,
                      size_t scratch_size, vbp_record *out, vbp_error *err);

/*
 * add_frame / add_heatmap for a record vbp_record_encode already produced
 * with the writer's codec; the pack is byte-identical to what add_frame /
 * add_heatmap would write from the same pixels.  The writer checks the cheap
 * facts (raw_size matches the geometry; raw: stored_size == raw_size; lz4:
 * only in an lz4 pack, 1 <= stored_size < raw_size) and fails with VBP_E_ARG
 * otherwise; it trusts the checksum (vbp_pack_verify checks it later).
 */
int vbp_writer_add_frame_encoded(vbp_writer *w, const vbp_record *rec, const vbp_label *label,
                                 vbp_error *err);
int vbp_writer_add_heatmap_encoded(vbp_writer *w, const vbp_record *rec, vbp_error *err);

/* Write index and header, fsync, rename into place, free w (always, even on failure). */
int vbp_writer_finish(vbp_writer *w, vbp_error *err);
/* Remove the temporary file and free w. */
void vbp_writer_abort(vbp_writer *w);

/*
 * Remove the temporary files that killed writers left beside `path`
 * ("path.tmp.<pid>" whose process no longer exists; a live writer's file is
 * left alone).  `removed` (may be NULL) is called with each removed file's
 * path.  Returns how many were removed, or VBP_E_IO when the directory
 * cannot be read or a file cannot be removed (err names it).
 */
typedef void (*vbp_stale_fn)(void *ctx, const char *tmp_path);
int vbp_writer_remove_stale(const char *path, vbp_stale_fn removed, void *ctx, vbp_error *err);

const char *vbp_split_name(vbp_split s);   /* "train", "val", "test" */
int vbp_split_parse(const char *s, vbp_split *out); /* VBP_OK or VBP_E_ARG */
const char *vbp_codec_name(vbp_codec c);   /* "raw", "lz4" */

#ifdef __cplusplus
}
#endif
#endif

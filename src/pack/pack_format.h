/*
 * pack_format.h - the on-disk encoding of a pack (internal).
 *
 * One implementation of the byte layout of formats/vbpack.md, shared by the
 * writer and the reader: constants, and encode/decode of the header, a clip
 * table entry and a frame index entry.  Decoding never validates; the reader
 * does that on the decoded values.
 */
#ifndef VBP_PACK_FORMAT_H
#define VBP_PACK_FORMAT_H

#include <stdint.h>
#include "vbp_pack.h"

#define VBP_MAGIC "\x89VBPACK\n"
#define VBP_MAGIC_SIZE 8
#define VBP_HEADER_SIZE 256u
#define VBP_HEADER_SUM_OFFSET 248u      /* header checksum covers bytes [0, 248) */
#define VBP_CLIP_ENTRY_SIZE 152u
#define VBP_FRAME_ENTRY_SIZE 96u
#define VBP_LZ4_ALIGN 8u                /* lz4 records and index sections */
#define VBP_MAX_DIM 16384u
#define VBP_MAX_FRAMES 0xFFFFFFFFull    /* frame_count <= 2^32 - 1 */

enum { VBP_SEC_CLIPS = 0, VBP_SEC_FRAMES = 1, VBP_SEC_DATA = 2, VBP_SEC_COUNT = 3 };

typedef struct vbp_section {
    uint64_t offset, length, checksum;
} vbp_section;

typedef struct vbp_header {
    uint8_t magic[VBP_MAGIC_SIZE];
    uint16_t major, minor;
    uint32_t header_size, flags;
    vbp_geometry geometry;
    uint32_t codec;
    uint64_t clip_count, frame_count, file_size;
    uint32_t clip_entry_size, frame_entry_size, raw_align, lz4_align;
    vbp_section sec[VBP_SEC_COUNT];
    uint64_t checksum;
} vbp_header;

/* A record as the frame index describes it (codec kept as the stored u32). */
typedef struct vbp_record_desc {
    uint64_t offset, stored_size, raw_size, checksum;
    uint32_t codec;
} vbp_record_desc;

typedef struct vbp_frame_entry {
    vbp_record_desc rec[2]; /* [VBP_REC_FRAME], [VBP_REC_HEATMAP] */
    vbp_label label;
    uint16_t source_width, source_height; /* 1.1: the size the frame was scaled from, or 0 */
} vbp_frame_entry;

/* Encode h into out (header checksum computed here and stored in h->checksum too). */
void vbp_header_encode(vbp_header *h, uint8_t out[VBP_HEADER_SIZE]);
void vbp_header_decode(const uint8_t in[VBP_HEADER_SIZE], vbp_header *h);
/* XXH3-64 of the header bytes before the checksum field. */
uint64_t vbp_header_checksum(const uint8_t in[VBP_HEADER_SIZE]);

/* Clip names are copied as 64 raw bytes each way; the reader checks the NUL.  The frame rate
 * (1.1) is c->source.fps_num/den; the source size lives in the frame entries. */
void vbp_clip_encode(const vbp_clip *c, uint8_t out[VBP_CLIP_ENTRY_SIZE]);
/* Decodes the split as a raw u32 into *split_raw (the reader validates it). */
void vbp_clip_decode(const uint8_t in[VBP_CLIP_ENTRY_SIZE], vbp_clip *c, uint32_t *split_raw);

void vbp_frame_entry_encode(const vbp_frame_entry *e, uint8_t out[VBP_FRAME_ENTRY_SIZE]);
void vbp_frame_entry_decode(const uint8_t in[VBP_FRAME_ENTRY_SIZE], vbp_frame_entry *e);

/*
 * Validate a whole mapped pack (header, section table, index checksums, every
 * clip and frame index entry; not record checksums), in an order where
 * nothing sized by a claimed value is touched before that value is checked.
 * On success fills *h and *clips (malloc'd, h->clip_count entries).  Fails
 * with VBP_E_TRUNCATED, VBP_E_FORMAT, VBP_E_VERSION, VBP_E_CHECKSUM or
 * VBP_E_NOMEM; the detail starts with `path`.
 */
int vbp_pack_validate(const char *path, const uint8_t *map, uint64_t size, vbp_header *h,
                      vbp_clip **clips, vbp_error *err);

/*
 * The byte-for-byte part of vbp_pack_verify, on a pack that opened (so h and
 * clips passed vbp_pack_validate): zero padding after the header, before
 * every record and after the data section and the clip table, every record's
 * checksum, every lz4 record decoded (into a scratch buffer) to exactly its
 * raw size, in file order; the first problem is named by its offset.
 */
int vbp_pack_check_bytes(const vbp_pack *p, const vbp_header *h, const vbp_clip *clips,
                         vbp_progress_fn progress, void *ctx, vbp_error *err);

/* The label convention: visible with finite x, y; hidden or unlabelled with x = y = -1. */
int vbp_label_valid(const vbp_label *l);

/* Bytes of one raw record of `channels` planes in geometry g (fits: dims are validated). */
static inline uint64_t vbp_plane_bytes(const vbp_geometry *g, uint32_t channels)
{
    return (uint64_t)g->height * g->width * channels;
}

#endif

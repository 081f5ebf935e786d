/*
 * pack_check.c - validation of an untrusted pack before it is used.
 *
 * Order matters: every value read from the file is checked before it sizes
 * a loop, an allocation or an access (see formats/vbpack.md, "Validation").
 */
#include <stdlib.h>
#include <string.h>
#include <lz4.h>
#include <xxhash.h>
#include "internal.h"
#include "pack_format.h"

static const char *const sec_name[VBP_SEC_COUNT] = {"clip table", "frame index", "data section"};

static int check_header(const char *path, const uint8_t *map, uint64_t size, vbp_header *h,
                        vbp_error *err)
{
    if (size < VBP_MAGIC_SIZE || (size < VBP_HEADER_SIZE && !memcmp(map, VBP_MAGIC, VBP_MAGIC_SIZE)))
        return vbp_fail(err, VBP_E_TRUNCATED, "%s: file is %llu bytes, shorter than the %u-byte header",
                        path, (unsigned long long)size, VBP_HEADER_SIZE);
    if (memcmp(map, VBP_MAGIC, VBP_MAGIC_SIZE))
        return vbp_fail(err, VBP_E_FORMAT, "%s: not a vbpack file (bad magic)", path);
    vbp_header_decode(map, h);
    if (h->major > VBP_VERSION_MAJOR)
        return vbp_fail(err, VBP_E_VERSION,
                        "%s: pack format version %u.%u is newer than this reader's %d.%d",
                        path, h->major, h->minor, VBP_VERSION_MAJOR, VBP_VERSION_MINOR);
    if (h->major < 1)
        return vbp_fail(err, VBP_E_FORMAT, "%s: invalid format version %u.%u", path, h->major, h->minor);
    if (vbp_header_checksum(map) != h->checksum)
        return vbp_fail(err, VBP_E_CHECKSUM, "%s: header checksum mismatch", path);
    if (h->header_size != VBP_HEADER_SIZE || h->clip_entry_size != VBP_CLIP_ENTRY_SIZE ||
        h->frame_entry_size != VBP_FRAME_ENTRY_SIZE || h->raw_align != VBP_ALIGN ||
        h->lz4_align != VBP_LZ4_ALIGN)
        return vbp_fail(err, VBP_E_FORMAT,
                        "%s: header declares sizes %u/%u/%u and alignments %u/%u, expected %u/%u/%u and %u/%u",
                        path, h->header_size, h->clip_entry_size, h->frame_entry_size, h->raw_align,
                        h->lz4_align, VBP_HEADER_SIZE, VBP_CLIP_ENTRY_SIZE, VBP_FRAME_ENTRY_SIZE,
                        VBP_ALIGN, VBP_LZ4_ALIGN);
    if (size < h->file_size)
        return vbp_fail(err, VBP_E_TRUNCATED, "%s: truncated: file is %llu bytes, header says %llu", path,
                        (unsigned long long)size, (unsigned long long)h->file_size);
    if (size > h->file_size)
        return vbp_fail(err, VBP_E_FORMAT, "%s: file is %llu bytes, header says %llu (trailing data)",
                        path, (unsigned long long)size, (unsigned long long)h->file_size);
    const vbp_geometry *g = &h->geometry;
    if (g->height < 1 || g->height > VBP_MAX_DIM || g->width < 1 || g->width > VBP_MAX_DIM)
        return vbp_fail(err, VBP_E_FORMAT, "%s: geometry %ux%u outside 1..%u pixels a side", path,
                        g->width, g->height, VBP_MAX_DIM);
    if ((g->frame_channels != 1 && g->frame_channels != 3) || g->heatmap_channels != 1)
        return vbp_fail(err, VBP_E_FORMAT, "%s: %u frame / %u heatmap channels (allowed: 1 or 3 / 1)",
                        path, g->frame_channels, g->heatmap_channels);
    if (h->codec != VBP_CODEC_RAW && h->codec != VBP_CODEC_LZ4)
        return vbp_fail(err, VBP_E_FORMAT, "%s: unknown default codec %u", path, h->codec);
    if (h->frame_count > VBP_MAX_FRAMES || h->clip_count < 1 || h->clip_count > h->frame_count)
        return vbp_fail(err, VBP_E_FORMAT, "%s: %llu clips and %llu frames (need 1 <= clips <= frames < 2^32)",
                        path, (unsigned long long)h->clip_count, (unsigned long long)h->frame_count);
    return VBP_OK;
}

static int check_sections(const char *path, const uint8_t *map, const vbp_header *h, vbp_error *err)
{
    const uint64_t want[2] = {h->clip_count * VBP_CLIP_ENTRY_SIZE, h->frame_count * VBP_FRAME_ENTRY_SIZE};
    for (int s = 0; s < VBP_SEC_COUNT; s++) {
        const vbp_section *a = &h->sec[s];
        if (a->offset < VBP_HEADER_SIZE || a->offset > h->file_size ||
            a->length > h->file_size - a->offset)
            return vbp_fail(err, VBP_E_FORMAT, "%s: %s (offset %llu, length %llu) is not inside the file",
                            path, sec_name[s], (unsigned long long)a->offset,
                            (unsigned long long)a->length);
        if (s < 2 && a->length != want[s])
            return vbp_fail(err, VBP_E_FORMAT, "%s: %s is %llu bytes, its count needs %llu", path,
                            sec_name[s], (unsigned long long)a->length, (unsigned long long)want[s]);
        for (int t = 0; t < s; t++) {
            const vbp_section *b = &h->sec[t];
            if (a->offset < b->offset + b->length && b->offset < a->offset + a->length)
                return vbp_fail(err, VBP_E_FORMAT, "%s: %s overlaps %s", path, sec_name[s], sec_name[t]);
        }
    }
    for (int s = 0; s < 2; s++)
        if (XXH3_64bits(map + h->sec[s].offset, (size_t)h->sec[s].length) != h->sec[s].checksum)
            return vbp_fail(err, VBP_E_CHECKSUM, "%s: %s checksum mismatch", path, sec_name[s]);
    return VBP_OK;
}

static int check_clips(const char *path, const uint8_t *map, const vbp_header *h, vbp_clip *clips,
                       vbp_error *err)
{
    uint64_t next = 0;
    for (uint64_t i = 0; i < h->clip_count; i++) {
        vbp_clip *c = &clips[i];
        uint32_t split;
        vbp_clip_decode(map + h->sec[VBP_SEC_CLIPS].offset + i * VBP_CLIP_ENTRY_SIZE, c, &split);
        if (!memchr(c->name, 0, VBP_NAME_MAX) || !memchr(c->group, 0, VBP_NAME_MAX) || !c->name[0])
            return vbp_fail(err, VBP_E_FORMAT, "%s: clip table entry %llu: %s", path,
                            (unsigned long long)i, c->name[0] ? "name not NUL-terminated" : "empty name");
        if (split >= VBP_SPLIT_COUNT)
            return vbp_fail(err, VBP_E_FORMAT, "%s: clip '%s': invalid split %u", path, c->name, split);
        if (c->first_frame != next || c->frame_count < 1 || c->frame_count > h->frame_count - next)
            return vbp_fail(err, VBP_E_FORMAT,
                            "%s: clip '%s': frames %llu+%llu do not continue the previous clip at %llu "
                            "within %llu frames", path, c->name, (unsigned long long)c->first_frame,
                            (unsigned long long)c->frame_count, (unsigned long long)next,
                            (unsigned long long)h->frame_count);
        next += c->frame_count;
    }
    if (next != h->frame_count)
        return vbp_fail(err, VBP_E_FORMAT, "%s: clips cover %llu of %llu frames", path,
                        (unsigned long long)next, (unsigned long long)h->frame_count);
    return VBP_OK;
}

static const char *record_problem(const vbp_record_desc *r, uint64_t raw, const vbp_section *data)
{
    uint64_t end = data->offset + data->length;
    if (r->codec != VBP_CODEC_RAW && r->codec != VBP_CODEC_LZ4)
        return "unknown codec";
    if (r->raw_size != raw)
        return "raw size does not match the geometry";
    if (r->codec == VBP_CODEC_RAW && r->stored_size != raw)
        return "raw record whose stored size is not its raw size";
    if (r->codec == VBP_CODEC_RAW && r->offset % VBP_ALIGN)
        return "raw record not 4096-aligned";
    /* No lz4 block decodes to more than 255 times its size, so a few stored bytes cannot
     * claim a huge raw size (which a loader would size its buffers by). */
    if (r->codec == VBP_CODEC_LZ4 && (r->stored_size < 1 ||
                                      r->stored_size > (uint64_t)LZ4_compressBound((int)raw) ||
                                      raw > 255 * r->stored_size))
        return "lz4 stored size outside raw/255..LZ4_compressBound(raw)";
    if (r->codec == VBP_CODEC_LZ4 && r->offset % VBP_LZ4_ALIGN)
        return "lz4 record not 8-aligned";
    if (r->offset < data->offset || r->offset > end || r->stored_size > end - r->offset)
        return "offset outside the data section";
    return NULL;
}

static int check_frames(const char *path, const uint8_t *map, const vbp_header *h, vbp_error *err)
{
    static const char *const kind[2] = {"frame", "heatmap"};
    const uint64_t raw[2] = {vbp_plane_bytes(&h->geometry, h->geometry.frame_channels),
                             vbp_plane_bytes(&h->geometry, h->geometry.heatmap_channels)};
    for (uint64_t f = 0; f < h->frame_count; f++) {
        vbp_frame_entry e;
        vbp_frame_entry_decode(map + h->sec[VBP_SEC_FRAMES].offset + f * VBP_FRAME_ENTRY_SIZE, &e);
        for (int k = 0; k < 2; k++) {
            const char *why = record_problem(&e.rec[k], raw[k], &h->sec[VBP_SEC_DATA]);
            if (why)
                return vbp_fail(err, VBP_E_FORMAT, "%s: frame index entry %llu: %s %s", path,
                                (unsigned long long)f, kind[k], why);
        }
        uint8_t v = e.label.visibility;
        if (v != 0 && v != 1 && v != VBP_NO_LABEL)
            return vbp_fail(err, VBP_E_FORMAT, "%s: frame index entry %llu: visibility %u", path,
                            (unsigned long long)f, v);
    }
    return VBP_OK;
}

int vbp_pack_validate(const char *path, const uint8_t *map, uint64_t size, vbp_header *h,
                      vbp_clip **clips, vbp_error *err)
{
    *clips = NULL;
    int rc = check_header(path, map, size, h, err);
    if (!rc)
        rc = check_sections(path, map, h, err);
    if (rc)
        return rc;
    /* Bounded by the file: the clip table is clip_count * 152 bytes inside it. */
    vbp_clip *c = calloc((size_t)h->clip_count, sizeof *c);
    if (!c)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for %llu clips", path,
                        (unsigned long long)h->clip_count);
    rc = check_clips(path, map, h, c, err);
    if (!rc)
        rc = check_frames(path, map, h, err);
    if (rc) {
        free(c);
        return rc;
    }
    *clips = c;
    return VBP_OK;
}

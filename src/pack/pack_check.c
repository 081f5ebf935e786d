/*
 * pack_check.c - validation of an untrusted pack: at open (header and
 * tables) and by verify (every byte, formats/vbpack.md "Verification").
 *
 * Order matters: every value read from the file is checked before it sizes
 * a loop, an allocation or an access (see formats/vbpack.md, "Validation").
 * A pack passes both only if a writer following the spec could have written
 * it byte for byte.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>
#include <xxhash.h>
#include "internal.h"
#include "pack_format.h"
#include "vbp_names.h"

/* Fail with "PATH: offset N: <message>", N the first offending byte. */
static int bad(vbp_error *err, int code, const char *path, uint64_t off, const char *fmt, ...)
    VBP_PRINTF(5, 6);
static int bad(vbp_error *err, int code, const char *path, uint64_t off, const char *fmt, ...)
{
    char msg[VBP_ERROR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vbp_fail(err, code, "%s: offset %llu: %s", path, (unsigned long long)off, msg);
}

/* Offset of the first non-zero byte of [from, to) in map, or `to` when all are zero. */
static uint64_t first_nonzero(const uint8_t *map, uint64_t from, uint64_t to)
{
    while (from < to && !map[from])
        from++;
    return from;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* 1.1 defines every byte; a newer minor version may use the reserved ones. */
static int reserved_checked(const vbp_header *h) { return h->minor <= VBP_VERSION_MINOR; }
/* The fields 1.1 added (reserved, so zero, in 1.0): every minor version from 1 on has them. */
static int has_source(const vbp_header *h) { return h->minor >= 1; }

static const char *const sec_name[VBP_SEC_COUNT] = {"clip table", "frame index", "data section"};

static int check_header(const char *path, const uint8_t *map, uint64_t size, vbp_header *h,
                        vbp_error *err)
{
    /* A file shorter than the magic is a truncated pack when it is a prefix of the magic. */
    size_t m = size < VBP_MAGIC_SIZE ? (size_t)size : VBP_MAGIC_SIZE;
    if (m && memcmp(map, VBP_MAGIC, m))
        return vbp_fail(err, VBP_E_FORMAT, "%s: not a vbpack file (bad magic)", path);
    if (size < VBP_HEADER_SIZE)
        return vbp_fail(err, VBP_E_TRUNCATED, "%s: file is %llu bytes, shorter than the %u-byte header",
                        path, (unsigned long long)size, VBP_HEADER_SIZE);
    vbp_header_decode(map, h);
    if (h->major > VBP_VERSION_MAJOR)
        return vbp_fail(err, VBP_E_VERSION,
                        "%s: pack format version %u.%u is newer than this reader's %d.%d",
                        path, h->major, h->minor, VBP_VERSION_MAJOR, VBP_VERSION_MINOR);
    if (h->major < 1)
        return vbp_fail(err, VBP_E_FORMAT, "%s: invalid format version %u.%u", path, h->major, h->minor);
    if (vbp_header_checksum(map) != h->checksum)
        return bad(err, VBP_E_CHECKSUM, path, VBP_HEADER_SUM_OFFSET, "header checksum mismatch");
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
    if (h->flags)
        return bad(err, VBP_E_FORMAT, path, 16, "header flags 0x%x (no flags are defined in 1.x)", h->flags);
    uint64_t r = first_nonzero(map, 152, VBP_HEADER_SUM_OFFSET);
    if (reserved_checked(h) && r < VBP_HEADER_SUM_OFFSET)
        return bad(err, VBP_E_FORMAT, path, r, "header reserved byte is 0x%02x, must be 0", map[r]);
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
    /* Where a writer puts them: data at 4096, each table 8-aligned right after what precedes it. */
    const vbp_section *d = &h->sec[VBP_SEC_DATA], *c = &h->sec[VBP_SEC_CLIPS], *f = &h->sec[VBP_SEC_FRAMES];
    if (d->offset != VBP_ALIGN)
        return bad(err, VBP_E_FORMAT, path, 80 + 24 * VBP_SEC_DATA,
                   "data section at %llu, a writer starts it at %u", (unsigned long long)d->offset, VBP_ALIGN);
    if (d->checksum)
        return bad(err, VBP_E_FORMAT, path, 96 + 24 * VBP_SEC_DATA,
                   "data section checksum field is %#llx, must be 0", (unsigned long long)d->checksum);
    if (c->offset != align_up(d->offset + d->length, VBP_LZ4_ALIGN))
        return bad(err, VBP_E_FORMAT, path, 80 + 24 * VBP_SEC_CLIPS,
                   "clip table at %llu, a writer puts it at %llu (8-aligned after the data section)",
                   (unsigned long long)c->offset,
                   (unsigned long long)align_up(d->offset + d->length, VBP_LZ4_ALIGN));
    if (f->offset != align_up(c->offset + c->length, VBP_LZ4_ALIGN))
        return bad(err, VBP_E_FORMAT, path, 80 + 24 * VBP_SEC_FRAMES,
                   "frame index at %llu, a writer puts it at %llu (8-aligned after the clip table)",
                   (unsigned long long)f->offset,
                   (unsigned long long)align_up(c->offset + c->length, VBP_LZ4_ALIGN));
    if (h->file_size != f->offset + f->length)
        return bad(err, VBP_E_FORMAT, path, 56, "file_size %llu, but the frame index ends at %llu",
                   (unsigned long long)h->file_size, (unsigned long long)(f->offset + f->length));
    for (int s = 0; s < 2; s++)
        if (XXH3_64bits(map + h->sec[s].offset, (size_t)h->sec[s].length) != h->sec[s].checksum)
            return bad(err, VBP_E_CHECKSUM, path, 96 + 24 * s, "%s checksum mismatch", sec_name[s]);
    return VBP_OK;
}

/* "group/name", or "name" when the group is "" (how tools name a clip). */
static void qualified_name(const vbp_clip *c, char out[2 * VBP_NAME_MAX])
{
    snprintf(out, 2 * VBP_NAME_MAX, "%s%s%s", c->group, c->group[0] ? "/" : "", c->name);
}

/* The clip as messages quote it: its qualified name, escaped. */
static const char *label(char q[VBP_CLIP_LABEL_MAX], const vbp_clip *c)
{
    return vbp_clip_label(q, VBP_CLIP_LABEL_MAX, c->group, c->name);
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

/* Qualified clip names are unique: sort a copy of them and compare neighbours. */
static int check_unique(const char *path, const vbp_header *h, const vbp_clip *clips, vbp_error *err)
{
    size_t n = (size_t)h->clip_count, w = 2 * VBP_NAME_MAX;
    char *names = malloc(n * w);
    if (!names)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for %zu clip names", path, n);
    for (size_t i = 0; i < n; i++)
        qualified_name(&clips[i], names + i * w);
    qsort(names, n, w, cmp_names);
    int rc = VBP_OK;
    for (size_t i = 1; i < n && !rc; i++)
        if (!strcmp(names + (i - 1) * w, names + i * w)) {
            uint64_t k = 0; /* the second clip of that name, for the offset */
            int seen = 0;
            char q[2 * VBP_NAME_MAX];
            for (; k < h->clip_count; k++) {
                qualified_name(&clips[k], q);
                if (!strcmp(q, names + i * w) && seen++)
                    break;
            }
            char e[VBP_CLIP_LABEL_MAX];
            rc = bad(err, VBP_E_FORMAT, path, h->sec[VBP_SEC_CLIPS].offset + k * VBP_CLIP_ENTRY_SIZE,
                     "clip table entry %llu: a second clip named '%s' (clip names are unique)",
                     (unsigned long long)k, label(e, &clips[k]));
        }
    free(names);
    return rc;
}

static int check_clips(const char *path, const uint8_t *map, const vbp_header *h, vbp_clip *clips,
                       vbp_error *err)
{
    uint64_t next = 0;
    for (uint64_t i = 0; i < h->clip_count; i++) {
        vbp_clip *c = &clips[i];
        uint32_t split;
        uint64_t at = h->sec[VBP_SEC_CLIPS].offset + i * VBP_CLIP_ENTRY_SIZE;
        const uint8_t *e = map + at;
        vbp_clip_decode(e, c, &split);
        const char *nul = memchr(c->name, 0, VBP_NAME_MAX), *gnul = memchr(c->group, 0, VBP_NAME_MAX);
        if (!nul || !c->name[0])
            return bad(err, VBP_E_FORMAT, path, at, "clip table entry %llu: %s", (unsigned long long)i,
                       nul ? "empty name" : "name not NUL-terminated");
        if (!gnul)
            return bad(err, VBP_E_FORMAT, path, at + 64, "clip table entry %llu: group not NUL-terminated",
                       (unsigned long long)i);
        char q[VBP_CLIP_LABEL_MAX]; /* written only when a message quotes the clip */
        if (strchr(c->name, '/') || strchr(c->group, '/')) /* "group/name" would be ambiguous */
            return bad(err, VBP_E_FORMAT, path, at, "clip '%s': '/' in a clip or group name", label(q, c));
        uint64_t z = first_nonzero(map, at + (uint64_t)(nul - c->name), at + 64);
        if (reserved_checked(h) && z < at + 64)
            return bad(err, VBP_E_FORMAT, path, z, "clip '%s': byte 0x%02x after the name's NUL, must be 0",
                       label(q, c), map[z]);
        z = first_nonzero(map, at + 64 + (uint64_t)(gnul - c->group), at + 128);
        if (reserved_checked(h) && z < at + 128)
            return bad(err, VBP_E_FORMAT, path, z, "clip '%s': byte 0x%02x after the group's NUL, must be 0",
                       label(q, c), map[z]);
        if (split >= VBP_SPLIT_COUNT)
            return bad(err, VBP_E_FORMAT, path, at + 128, "clip '%s': invalid split %u", label(q, c),
                       split);
        z = first_nonzero(map, at + 132, at + 136);
        if (!has_source(h) && reserved_checked(h) && z < at + 136)
            return bad(err, VBP_E_FORMAT, path, z, "clip '%s': reserved byte is 0x%02x, must be 0",
                       label(q, c), map[z]);
        if (!has_source(h))
            c->source.fps_num = c->source.fps_den = 0;
        else if ((c->source.fps_num == 0) != (c->source.fps_den == 0))
            return bad(err, VBP_E_FORMAT, path, at + 132, "clip '%s': source frame rate %u/%u "
                       "(both zero or both non-zero)", label(q, c), c->source.fps_num,
                       c->source.fps_den);
        if (c->first_frame != next || c->frame_count < 1 || c->frame_count > h->frame_count - next)
            return bad(err, VBP_E_FORMAT, path, at + 136,
                       "clip '%s': frames %llu+%llu do not continue the previous clip at %llu "
                       "within %llu frames", label(q, c), (unsigned long long)c->first_frame,
                       (unsigned long long)c->frame_count, (unsigned long long)next,
                       (unsigned long long)h->frame_count);
        next += c->frame_count;
    }
    if (next != h->frame_count)
        return vbp_fail(err, VBP_E_FORMAT, "%s: clips cover %llu of %llu frames", path,
                        (unsigned long long)next, (unsigned long long)h->frame_count);
    return check_unique(path, h, clips, err);
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

static const char *const kind_name[2] = {"frame", "heatmap"};

/* The label convention: visible means finite coordinates; hidden or unlabelled means (-1, -1). */
static int label_ok(const vbp_label *l)
{
    if (l->visibility == 1)
        return isfinite(l->x) && isfinite(l->y);
    return (l->visibility == 0 || l->visibility == VBP_NO_LABEL) && l->x == -1.0f && l->y == -1.0f;
}

int vbp_label_valid(const vbp_label *l) { return label_ok(l); }

/*
 * 1.1: a frame's source size is 0 x 0 or both non-zero, and the same for every frame of a clip
 * (a clip is one video); the clip's source takes it.
 */
static int check_source(const char *path, const vbp_header *h, vbp_clip *c, uint64_t f,
                        uint64_t at, const vbp_frame_entry *e, vbp_error *err)
{
    if (!has_source(h))
        return VBP_OK;
    if ((e->source_width == 0) != (e->source_height == 0))
        return bad(err, VBP_E_FORMAT, path, at + 92, "frame index entry %llu: source size %ux%u "
                   "(both zero or both non-zero)", (unsigned long long)f, e->source_width,
                   e->source_height);
    if (f == c->first_frame) {
        c->source.width = e->source_width;
        c->source.height = e->source_height;
    } else if (e->source_width != c->source.width || e->source_height != c->source.height) {
        char q[VBP_CLIP_LABEL_MAX];
        return bad(err, VBP_E_FORMAT, path, at + 92, "frame index entry %llu: source size %ux%u, "
                   "clip '%s' started at %ux%u (a clip is one video)", (unsigned long long)f,
                   e->source_width, e->source_height, label(q, c), c->source.width,
                   c->source.height);
    }
    return VBP_OK;
}

static int check_frames(const char *path, const uint8_t *map, const vbp_header *h, vbp_clip *clips,
                        vbp_error *err)
{
    /* reserved byte ranges of a frame index entry (the last one holds the source size in 1.1) */
    static const uint8_t zero_from[4] = {36, 76, 81, 92}, zero_to[4] = {40, 80, 84, 96};
    const int zero_ranges = has_source(h) ? 3 : 4;
    uint64_t ci = 0; /* the clip of frame f (the clips, validated, cover the index in order) */
    const uint64_t raw[2] = {vbp_plane_bytes(&h->geometry, h->geometry.frame_channels),
                             vbp_plane_bytes(&h->geometry, h->geometry.heatmap_channels)};
    for (uint64_t f = 0; f < h->frame_count; f++) {
        vbp_frame_entry e;
        uint64_t at = h->sec[VBP_SEC_FRAMES].offset + f * VBP_FRAME_ENTRY_SIZE;
        vbp_frame_entry_decode(map + at, &e);
        for (int k = 0; k < 2; k++) {
            const char *why = record_problem(&e.rec[k], raw[k], &h->sec[VBP_SEC_DATA]);
            if (why)
                return bad(err, VBP_E_FORMAT, path, at + 40 * k, "frame index entry %llu: %s %s",
                           (unsigned long long)f, kind_name[k], why);
        }
        for (int z = 0; z < zero_ranges && reserved_checked(h); z++) {
            uint64_t o = first_nonzero(map, at + zero_from[z], at + zero_to[z]);
            if (o < at + zero_to[z])
                return bad(err, VBP_E_FORMAT, path, o,
                           "frame index entry %llu: reserved byte is 0x%02x, must be 0",
                           (unsigned long long)f, map[o]);
        }
        uint8_t v = e.label.visibility;
        if (v != 0 && v != 1 && v != VBP_NO_LABEL)
            return bad(err, VBP_E_FORMAT, path, at + 80, "frame index entry %llu: visibility %u",
                       (unsigned long long)f, v);
        if (!label_ok(&e.label))
            return bad(err, VBP_E_FORMAT, path, at + 84,
                       "frame index entry %llu: visibility %u with label (%g, %g) (visible: finite x, y; "
                       "hidden or no label: -1, -1)", (unsigned long long)f, v, (double)e.label.x,
                       (double)e.label.y);
        while (f >= clips[ci].first_frame + clips[ci].frame_count)
            ci++;
        int rc = check_source(path, h, &clips[ci], f, at, &e, err);
        if (rc)
            return rc;
    }
    return VBP_OK;
}

/*
 * Records in the order a writer stores them: clip after clip, the clip's
 * frame records, then its heatmap records.  next() yields each with its
 * global frame number and kind; pos tracks where the previous one ended.
 */
typedef struct rec_walk {
    const uint8_t *map;
    const vbp_header *h;
    const vbp_clip *clips;
    uint64_t clip, i;  /* next record: clip, index within the clip's run of frames or heatmaps */
    int kind;
    /* the record just returned */
    const vbp_clip *c;
    uint64_t in_clip;  /* frame number within its clip */
    uint64_t entry_at; /* file offset of its descriptor */
    vbp_record_desc rec;
} rec_walk;

static void walk_init(rec_walk *w, const uint8_t *map, const vbp_header *h, const vbp_clip *clips)
{
    memset(w, 0, sizeof *w);
    w->map = map;
    w->h = h;
    w->clips = clips;
}

/* Next record in writer order: 1 + its kind, or 0 after the last. */
static int walk_next(rec_walk *w)
{
    if (w->clip >= w->h->clip_count)
        return 0;
    const vbp_clip *c = &w->clips[w->clip];
    int kind = w->kind;
    vbp_frame_entry e;
    w->c = c;
    w->in_clip = w->i;
    w->entry_at = w->h->sec[VBP_SEC_FRAMES].offset + (c->first_frame + w->i) * VBP_FRAME_ENTRY_SIZE;
    vbp_frame_entry_decode(w->map + w->entry_at, &e);
    w->rec = e.rec[kind];
    w->entry_at += 40u * (unsigned)kind;
    if (++w->i == c->frame_count) {
        w->i = 0;
        if (++w->kind == 2) {
            w->kind = 0;
            w->clip++;
        }
    }
    return kind + 1;
}

/* Record offsets, codecs and the end of the data section as a writer leaves them. */
static int check_layout(const char *path, const uint8_t *map, const vbp_header *h, const vbp_clip *clips,
                        vbp_error *err)
{
    const uint64_t raw[2] = {vbp_plane_bytes(&h->geometry, h->geometry.frame_channels),
                             vbp_plane_bytes(&h->geometry, h->geometry.heatmap_channels)};
    uint64_t pos = h->sec[VBP_SEC_DATA].offset;
    rec_walk w;
    walk_init(&w, map, h, clips);
    for (int k1; (k1 = walk_next(&w));) {
        int k = k1 - 1;
        const vbp_record_desc *r = &w.rec;
        const vbp_clip *c = w.c;
        unsigned long long fi = (unsigned long long)w.in_clip;
        char q[VBP_CLIP_LABEL_MAX]; /* written only when a message quotes the clip */
        if (r->codec == VBP_CODEC_LZ4 && h->codec != VBP_CODEC_LZ4)
            return bad(err, VBP_E_FORMAT, path, w.entry_at + 32,
                       "clip '%s' frame %llu %s: lz4 record in a pack whose codec is raw",
                       label(q, c), fi, kind_name[k]);
        if (r->codec == VBP_CODEC_LZ4 && r->stored_size >= raw[k])
            return bad(err, VBP_E_FORMAT, path, w.entry_at + 8,
                       "clip '%s' frame %llu %s: lz4 record of %llu bytes is not smaller than raw "
                       "(a writer stores it raw)", label(q, c), fi, kind_name[k],
                       (unsigned long long)r->stored_size);
        uint64_t want = align_up(pos, r->codec == VBP_CODEC_RAW ? VBP_ALIGN : VBP_LZ4_ALIGN);
        if (r->offset != want)
            return bad(err, VBP_E_FORMAT, path, w.entry_at,
                       "clip '%s' frame %llu %s record at %llu, a writer puts it at %llu",
                       label(q, c), fi, kind_name[k], (unsigned long long)r->offset,
                       (unsigned long long)want);
        pos = r->offset + r->stored_size;
    }
    uint64_t end = h->sec[VBP_SEC_DATA].offset + h->sec[VBP_SEC_DATA].length;
    if (pos != end)
        return bad(err, VBP_E_FORMAT, path, 80 + 24 * VBP_SEC_DATA + 8,
                   "data section ends at %llu, its last record at %llu", (unsigned long long)end,
                   (unsigned long long)pos);
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
        rc = check_frames(path, map, h, c, err);
    if (!rc)
        rc = check_layout(path, map, h, c, err);
    if (rc) {
        free(c);
        return rc;
    }
    *clips = c;
    return VBP_OK;
}

/* Zero bytes in [from, to), or a VBP_E_FORMAT naming the first other one as `what`. */
static int zeros(const char *path, const uint8_t *map, uint64_t from, uint64_t to, const char *what,
                 vbp_error *err)
{
    uint64_t z = first_nonzero(map, from, to);
    return z < to ? bad(err, VBP_E_FORMAT, path, z, "%s: byte 0x%02x, must be 0", what, map[z]) : VBP_OK;
}

int vbp_pack_check_bytes(const vbp_pack *p, const vbp_header *h, const vbp_clip *clips,
                         vbp_progress_fn progress, void *ctx, vbp_error *err)
{
    const char *path = vbp_pack_path(p);
    const uint8_t *map = vbp_pack_map(p, NULL);
    const uint64_t raw[2] = {vbp_plane_bytes(&h->geometry, h->geometry.frame_channels),
                             vbp_plane_bytes(&h->geometry, h->geometry.heatmap_channels)};
    int rc = vbp_pack_check_unchanged(p, err);
    if (!rc)
        rc = zeros(path, map, VBP_HEADER_SIZE, h->sec[VBP_SEC_DATA].offset, "padding after the header", err);
    if (rc)
        return rc;
    uint8_t *scratch = malloc((size_t)raw[0]);
    if (!scratch)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for a %llu-byte record", path,
                        (unsigned long long)raw[0]);
    uint64_t pos = h->sec[VBP_SEC_DATA].offset, done = 0;
    rec_walk w;
    walk_init(&w, map, h, clips);
    for (int k1; ; done++) {
        /* before reading the index again; also right after each progress call, which may be slow */
        if (done % 128 == 0 && (rc = vbp_pack_check_unchanged(p, err)))
            break;
        if (!(k1 = walk_next(&w)))
            break;
        int k = k1 - 1;
        const vbp_record_desc *r = &w.rec;
        const vbp_clip *c = w.c;
        unsigned long long fi = (unsigned long long)w.in_clip;
        char q[VBP_CLIP_LABEL_MAX]; /* written only when a message quotes the clip */
        uint64_t z = first_nonzero(map, pos, r->offset);
        if (z < r->offset) {
            rc = bad(err, VBP_E_FORMAT, path, z, "padding before clip '%s' frame %llu %s: byte 0x%02x, "
                     "must be 0", label(q, c), fi, kind_name[k], map[z]);
            break;
        }
        const uint8_t *s = map + r->offset;
        if (XXH3_64bits(s, (size_t)r->stored_size) != r->checksum) {
            rc = bad(err, VBP_E_CHECKSUM, path, r->offset, "clip '%s' frame %llu %s: checksum mismatch",
                     label(q, c), fi, kind_name[k]);
            break;
        }
        if (r->codec == VBP_CODEC_LZ4) {
            int n = LZ4_decompress_safe((const char *)s, (char *)scratch, (int)r->stored_size, (int)raw[k]);
            if (n < 0 || (uint64_t)n != raw[k]) {
                rc = bad(err, VBP_E_CODEC, path, r->offset,
                         "clip '%s' frame %llu %s: lz4 block of %llu bytes does not decode to "
                         "exactly %llu bytes", label(q, c), fi, kind_name[k],
                         (unsigned long long)r->stored_size, (unsigned long long)raw[k]);
                break;
            }
        }
        pos = r->offset + r->stored_size;
        if (progress && (done % 128 == 127))
            progress(ctx, (done + 1) / 2, h->frame_count);
    }
    free(scratch);
    if (!rc)
        rc = zeros(path, map, pos, h->sec[VBP_SEC_CLIPS].offset, "padding after the data section", err);
    if (!rc)
        rc = zeros(path, map, h->sec[VBP_SEC_CLIPS].offset + h->sec[VBP_SEC_CLIPS].length,
                   h->sec[VBP_SEC_FRAMES].offset, "padding after the clip table", err);
    if (!rc && progress)
        progress(ctx, h->frame_count, h->frame_count);
    return rc;
}

/*
 * pack_write.c - streaming pack writer.
 *
 * Records are appended to "path.tmp.<pid>" (atomic.h) as they arrive (raw ones on a
 * 4096-byte boundary, lz4 ones on 8), writeback starting every 2 MiB; the
 * encoding of a record (lz4 or raw, and its XXH3) is vbp_record_encode, which
 * callers may run on their own threads.  The clip table and frame index are kept
 * in memory (96 bytes per frame) and written after the data at finish, then
 * the header at offset 0, fsync, rename into place, fsync of the directory.
 * Whole 4096-byte file pages of zeros inside raw records are skipped, not
 * written (write_sparse): the file reads the same, and the mostly empty
 * heatmaps cost neither a copy into the page cache nor disk blocks.
 * Nothing depends on time or on uninitialised memory: the same calls give
 * the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4.h>
#include <xxhash.h>
#include "atomic.h"
#include "internal.h"
#include "pack_format.h"
#include "vbp_names.h"

struct vbp_writer {
    char *path;
    vbp_atomic file;     /* the temporary file; file.fd is written */
    int broken;          /* an I/O error happened: only abort is possible */
    vbp_writer_opts opts;
    uint64_t pos;        /* end of what has been written */
    uint64_t frame_bytes, heatmap_bytes;
    uint64_t writeback;  /* bytes before this were handed to writeback (sync_file_range) */
    uint8_t *scratch;    /* lz4 output of add_frame/add_heatmap */
    size_t scratch_size; /* vbp_record_encode_bound(frame_bytes) under lz4, else 0 */
    vbp_clip *clips;
    uint64_t clip_count, clip_cap;
    vbp_frame_entry *frames;
    uint64_t frame_count, frame_cap;
    int in_clip;
    uint64_t clip_heatmaps; /* heatmaps added to the open clip */
    int any_source;         /* a clip has a source: the pack is 1.1, else 1.0 */
};

static const uint8_t zeros[VBP_ALIGN];

/*
 * Span of written data handed to the kernel's writeback at a time.  Measured
 * on the 66 MB real-data pack: 8 MiB left 5-12 ms of final fsync, 2 MiB ~1 ms,
 * for about the same total time spent in sync_file_range.
 */
#define WRITEBACK_SPAN (2ull << 20)

/*
 * Start writeback of every completed WRITEBACK_SPAN since the last call, so
 * the disk works while records are still being decoded and the final fsync
 * only waits for the tail.  Only a hint (SYNC_FILE_RANGE_WRITE does not
 * wait and guarantees nothing): durability still comes from fsync at
 * finish, which also reports any write error.  A no-op where Linux's
 * sync_file_range is missing.
 */
static void start_writeback(vbp_writer *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
    while (w->pos - w->writeback >= WRITEBACK_SPAN) {
        (void)sync_file_range(w->file.fd, (off_t)w->writeback, (off_t)WRITEBACK_SPAN,
                              SYNC_FILE_RANGE_WRITE);
        w->writeback += WRITEBACK_SPAN;
    }
#else
    (void)w;
#endif
}

/* Write all n bytes at the current position; VBP_E_IO naming the target on failure. */
static int write_all(vbp_writer *w, const void *buf, size_t n, vbp_error *err)
{
    int rc = vbp_atomic_write(&w->file, buf, n, err);
    if (rc) {
        w->broken = 1;
        return rc;
    }
    w->pos += n;
    start_writeback(w);
    return VBP_OK;
}

/* 1 if the n bytes at p are all zero. */
static int all_zero(const uint8_t *p, size_t n)
{
    uint64_t acc = 0, v;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&v, p + i, 8);
        acc |= v;
    }
    for (; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/*
 * write_all, leaving each whole file page (VBP_ALIGN bytes at a multiple of
 * VBP_ALIGN) of zeros in buf as a hole: the position moves past it with
 * lseek.  A hole reads as zeros and the pack's tables always follow the
 * data, so the file's bytes and size are those write_all would give.
 */
static int write_sparse(vbp_writer *w, const uint8_t *p, size_t n, vbp_error *err)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i, skip = 0;
        /* [i, j): pages to write; then `skip` bytes of zero pages */
        while (j < n) {
            size_t len = (size_t)(VBP_ALIGN - (w->pos + j - i) % VBP_ALIGN);
            if (len == VBP_ALIGN && n - j >= len && all_zero(p + j, len)) {
                skip = VBP_ALIGN; /* each page is scanned once */
                break;
            }
            j += len < n - j ? len : n - j;
        }
        if (j > i) {
            int rc = write_all(w, p + i, j - i, err);
            if (rc)
                return rc;
        }
        while (skip && j + skip + VBP_ALIGN <= n && all_zero(p + j + skip, VBP_ALIGN))
            skip += VBP_ALIGN;
        if (skip) {
            if (lseek(w->file.fd, (off_t)skip, SEEK_CUR) < 0) {
                w->broken = 1;
                return vbp_fail(err, VBP_E_IO, "%s: seek failed: %s", w->path, strerror(errno));
            }
            w->pos += skip;
        }
        i = j + skip;
    }
    return VBP_OK;
}

/* Zero-pad up to the next multiple of `align`. */
static int pad_to(vbp_writer *w, uint64_t align, vbp_error *err)
{
    uint64_t n = (align - w->pos % align) % align;
    return write_all(w, zeros, (size_t)n, err);
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint64_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)(n * elem));
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Free w; the temporary file, if still there, is removed. */
static void writer_free(vbp_writer *w)
{
    vbp_atomic_abort(&w->file);
    free(w->path);
    free(w->scratch);
    free(w->clips);
    free(w->frames);
    free(w);
}

static int geometry_ok(const vbp_geometry *g)
{
    return g->height >= 1 && g->height <= VBP_MAX_DIM && g->width >= 1 && g->width <= VBP_MAX_DIM &&
           (g->frame_channels == 1 || g->frame_channels == 3) && g->heatmap_channels == 1;
}

int vbp_writer_open(const char *path, const vbp_writer_opts *opts, vbp_writer **out, vbp_error *err)
{
    *out = NULL;
    if (!path || !*path || !opts)
        return vbp_fail(err, VBP_E_ARG, "writer: no path or options");
    const vbp_geometry *g = &opts->geometry;
    if (!geometry_ok(g))
        return vbp_fail(err, VBP_E_ARG,
                        "%s: geometry %ux%u, %u frame / %u heatmap channels is outside the limits "
                        "(1..%u pixels a side, 1 or 3 frame channels, 1 heatmap channel)",
                        path, g->width, g->height, g->frame_channels, g->heatmap_channels, VBP_MAX_DIM);
    if (opts->codec != VBP_CODEC_RAW && opts->codec != VBP_CODEC_LZ4)
        return vbp_fail(err, VBP_E_ARG, "%s: unknown codec %d", path, (int)opts->codec);
    struct stat st;
    if (!opts->overwrite && lstat(path, &st) == 0)
        return vbp_fail(err, VBP_E_EXISTS, "%s: already exists (use --force to replace it)", path);

    vbp_writer *w = calloc(1, sizeof *w);
    if (!w)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    w->file.fd = -1;
    w->opts = *opts;
    w->frame_bytes = vbp_plane_bytes(g, g->frame_channels);
    w->heatmap_bytes = vbp_plane_bytes(g, g->heatmap_channels);
    w->path = strdup(path);
    if (opts->codec == VBP_CODEC_LZ4) {
        w->scratch_size = vbp_record_encode_bound(w->frame_bytes);
        w->scratch = malloc(w->scratch_size);
    }
    if (!w->path || (opts->codec == VBP_CODEC_LZ4 && !w->scratch)) {
        writer_free(w);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    }
    int rc = vbp_atomic_open(&w->file, path, err);
    if (rc) {
        writer_free(w);
        return rc;
    }
    /* The header is written last; reserve its page now so the first record lands at 4096. */
    rc = write_all(w, zeros, VBP_ALIGN, err);
    if (rc) {
        vbp_writer_abort(w);
        return rc;
    }
    *out = w;
    return VBP_OK;
}

/* The clip as messages quote it (vbp_clip_label). */
static const char *clip_label(char q[VBP_CLIP_LABEL_MAX], const vbp_clip *c)
{
    return vbp_clip_label(q, VBP_CLIP_LABEL_MAX, c->group, c->name);
}

static int usable(vbp_writer *w, vbp_error *err)
{
    if (w->broken)
        return vbp_fail(err, VBP_E_ARG, "%s: writer failed earlier; abort it", w->path);
    return VBP_OK;
}

int vbp_writer_begin_clip(vbp_writer *w, const char *name, const char *group, vbp_split split,
                          vbp_error *err)
{
    int rc = usable(w, err);
    if (rc)
        return rc;
    char q[VBP_CLIP_LABEL_MAX], q2[VBP_CLIP_LABEL_MAX];
    if (w->in_clip)
        return vbp_fail(err, VBP_E_ARG, "%s: clip '%s' begun before '%s' ended", w->path,
                        vbp_clip_label(q, sizeof q, group ? group : "", name ? name : ""),
                        clip_label(q2, &w->clips[w->clip_count - 1]));
    if (!name || !*name || strlen(name) >= VBP_NAME_MAX || (group && strlen(group) >= VBP_NAME_MAX))
        return vbp_fail(err, VBP_E_ARG, "%s: clip and group names must be 1..%d bytes",
                        w->path, VBP_NAME_MAX - 1);
    if (strchr(name, '/') || (group && strchr(group, '/')))
        return vbp_fail(err, VBP_E_ARG, "%s: clip '%s': '/' in a clip or group name", w->path,
                        vbp_clip_label(q, sizeof q, group ? group : "", name));
    if ((unsigned)split >= VBP_SPLIT_COUNT)
        return vbp_fail(err, VBP_E_ARG, "%s: clip '%s': invalid split %d", w->path,
                        vbp_clip_label(q, sizeof q, group ? group : "", name), (int)split);
    const char *g = group ? group : "";
    for (uint64_t i = 0; i < w->clip_count; i++)
        if (!strcmp(w->clips[i].name, name) && !strcmp(w->clips[i].group, g))
            return vbp_fail(err, VBP_E_ARG, "%s: a second clip named '%s' (clip names are unique)",
                            w->path, vbp_clip_label(q, sizeof q, g, name));
    if (grow((void **)&w->clips, &w->clip_cap, w->clip_count + 1, sizeof *w->clips))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", w->path);
    vbp_clip *c = &w->clips[w->clip_count++];
    memset(c, 0, sizeof *c);
    strcpy(c->name, name);
    if (group)
        strcpy(c->group, group);
    c->split = split;
    c->first_frame = w->frame_count;
    w->in_clip = 1;
    w->clip_heatmaps = 0;
    return VBP_OK;
}

int vbp_writer_set_source(vbp_writer *w, const vbp_clip_source *src, vbp_error *err)
{
    int rc = usable(w, err);
    if (rc)
        return rc;
    if (!w->in_clip || w->clips[w->clip_count - 1].frame_count)
        return vbp_fail(err, VBP_E_ARG, "%s: a clip's source is set before its first frame",
                        w->path);
    int size_ok = src->width >= 1 && src->width <= 65535 && src->height >= 1 &&
                  src->height <= 65535;
    int fps_ok = (src->fps_num == 0 && src->fps_den == 0) ||
                 (src->fps_num >= 1 && src->fps_num <= 65535 && src->fps_den >= 1 &&
                  src->fps_den <= 65535);
    if (!size_ok || !fps_ok)
        return vbp_fail(err, VBP_E_ARG, "%s: clip '%s': source %ux%u at %u/%u fps is outside the "
                        "format's range (1..65535 pixels, rate 1..65535 / 1..65535 or 0/0)", w->path,
                        w->clips[w->clip_count - 1].name, src->width, src->height, src->fps_num,
                        src->fps_den);
    w->clips[w->clip_count - 1].source = *src;
    w->any_source = 1;
    return VBP_OK;
}

size_t vbp_record_encode_bound(uint64_t raw_size)
{
    if (raw_size == 0 || raw_size > LZ4_MAX_INPUT_SIZE)
        return 0;
    return (size_t)LZ4_compressBound((int)raw_size);
}

int vbp_record_encode(vbp_codec codec, const uint8_t *src, uint64_t raw_size, uint8_t *scratch,
                      size_t scratch_size, vbp_record *out, vbp_error *err)
{
    if (!src || !out || raw_size == 0 || (codec != VBP_CODEC_RAW && codec != VBP_CODEC_LZ4))
        return vbp_fail(err, VBP_E_ARG, "record encode: bad arguments");
    size_t bound = vbp_record_encode_bound(raw_size);
    if (codec == VBP_CODEC_LZ4 && (!scratch || bound == 0 || scratch_size < bound))
        return vbp_fail(err, VBP_E_ARG, "record encode: lz4 scratch of %zu bytes, %zu needed",
                        scratch_size, bound);
    out->stored = src;
    out->stored_size = raw_size;
    out->raw_size = raw_size;
    out->codec = VBP_CODEC_RAW;
    if (codec == VBP_CODEC_LZ4) {
        int k = LZ4_compress_default((const char *)src, (char *)scratch, (int)raw_size, (int)bound);
        if (k > 0 && (uint64_t)k < raw_size) {
            out->stored = scratch;
            out->stored_size = (uint64_t)k;
            out->codec = VBP_CODEC_LZ4;
        }
    }
    out->checksum = XXH3_64bits(out->stored, (size_t)out->stored_size);
    return VBP_OK;
}

/*
 * Append an encoded record of `raw` bytes and describe it in *d.  Refuses
 * (VBP_E_ARG) a record vbp_record_encode could not have produced for this
 * writer: wrong raw size, lz4 in a raw pack, sizes that contradict the codec.
 */
static int append_record(vbp_writer *w, const vbp_record *rec, uint64_t raw, vbp_record_desc *d,
                         vbp_error *err)
{
    int ok = rec && rec->stored && rec->raw_size == raw &&
             ((rec->codec == VBP_CODEC_RAW && rec->stored_size == raw) ||
              (rec->codec == VBP_CODEC_LZ4 && w->opts.codec == VBP_CODEC_LZ4 &&
               rec->stored_size >= 1 && rec->stored_size < raw));
    if (!ok)
        return vbp_fail(err, VBP_E_ARG, "%s: encoded record does not fit the pack (%s codec, "
                        "%llu raw bytes per record)", w->path, vbp_codec_name(w->opts.codec),
                        (unsigned long long)raw);
    int rc = pad_to(w, rec->codec == VBP_CODEC_RAW ? VBP_ALIGN : VBP_LZ4_ALIGN, err);
    if (rc)
        return rc;
    d->offset = w->pos;
    d->stored_size = rec->stored_size;
    d->raw_size = raw;
    d->checksum = rec->checksum;
    d->codec = (uint32_t)rec->codec;
    return rec->codec == VBP_CODEC_RAW ? write_sparse(w, rec->stored, (size_t)rec->stored_size, err)
                                       : write_all(w, rec->stored, (size_t)rec->stored_size, err);
}

/* Encode `raw` bytes at src with the writer's codec into *rec (stored in w->scratch or src). */
static int encode(vbp_writer *w, const char *what, const uint8_t *src, uint64_t raw, vbp_record *rec,
                  vbp_error *err)
{
    if (!src)
        return vbp_fail(err, VBP_E_ARG, "%s: %s without pixels", w->path, what);
    return vbp_record_encode(w->opts.codec, src, raw, w->scratch, w->scratch_size, rec, err);
}

int vbp_writer_add_frame_encoded(vbp_writer *w, const vbp_record *rec, const vbp_label *label,
                                 vbp_error *err)
{
    int rc = usable(w, err);
    if (rc)
        return rc;
    if (!w->in_clip || w->clip_heatmaps)
        return vbp_fail(err, VBP_E_ARG, "%s: frame added %s", w->path,
                        w->in_clip ? "after the clip's heatmaps" : "outside a clip");
    if (w->frame_count >= VBP_MAX_FRAMES)
        return vbp_fail(err, VBP_E_ARG, "%s: more than %llu frames", w->path,
                        (unsigned long long)VBP_MAX_FRAMES);
    char q[VBP_CLIP_LABEL_MAX];
    if (label && !vbp_label_valid(label))
        return vbp_fail(err, VBP_E_ARG, "%s: clip '%s' frame %llu: label visibility %u at (%g, %g) "
                        "(visible: finite x, y; hidden or no label: -1, -1)", w->path,
                        clip_label(q, &w->clips[w->clip_count - 1]),
                        (unsigned long long)w->clips[w->clip_count - 1].frame_count,
                        label->visibility, (double)label->x, (double)label->y);
    if (grow((void **)&w->frames, &w->frame_cap, w->frame_count + 1, sizeof *w->frames))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", w->path);
    vbp_frame_entry *e = &w->frames[w->frame_count];
    memset(e, 0, sizeof *e);
    e->label = label ? *label : (vbp_label){VBP_NO_LABEL, -1.0f, -1.0f};
    e->source_width = (uint16_t)w->clips[w->clip_count - 1].source.width;
    e->source_height = (uint16_t)w->clips[w->clip_count - 1].source.height;
    rc = append_record(w, rec, w->frame_bytes, &e->rec[VBP_REC_FRAME], err);
    if (rc)
        return rc;
    w->frame_count++;
    w->clips[w->clip_count - 1].frame_count++;
    return VBP_OK;
}

int vbp_writer_add_frame(vbp_writer *w, const uint8_t *planar, const vbp_label *label, vbp_error *err)
{
    vbp_record rec;
    int rc = encode(w, "frame", planar, w->frame_bytes, &rec, err);
    return rc ? rc : vbp_writer_add_frame_encoded(w, &rec, label, err);
}

int vbp_writer_add_heatmap_encoded(vbp_writer *w, const vbp_record *rec, vbp_error *err)
{
    int rc = usable(w, err);
    if (rc)
        return rc;
    if (!w->in_clip)
        return vbp_fail(err, VBP_E_ARG, "%s: heatmap added outside a clip", w->path);
    vbp_clip *c = &w->clips[w->clip_count - 1];
    char q[VBP_CLIP_LABEL_MAX];
    if (w->clip_heatmaps >= c->frame_count)
        return vbp_fail(err, VBP_E_INPUT, "%s: clip '%s': more heatmaps than its %llu frames",
                        w->path, clip_label(q, c), (unsigned long long)c->frame_count);
    vbp_frame_entry *e = &w->frames[c->first_frame + w->clip_heatmaps];
    rc = append_record(w, rec, w->heatmap_bytes, &e->rec[VBP_REC_HEATMAP], err);
    if (rc)
        return rc;
    w->clip_heatmaps++;
    return VBP_OK;
}

int vbp_writer_add_heatmap(vbp_writer *w, const uint8_t *heatmap, vbp_error *err)
{
    vbp_record rec;
    int rc = encode(w, "heatmap", heatmap, w->heatmap_bytes, &rec, err);
    return rc ? rc : vbp_writer_add_heatmap_encoded(w, &rec, err);
}

int vbp_writer_end_clip(vbp_writer *w, vbp_error *err)
{
    int rc = usable(w, err);
    if (rc)
        return rc;
    if (!w->in_clip)
        return vbp_fail(err, VBP_E_ARG, "%s: end_clip without begin_clip", w->path);
    const vbp_clip *c = &w->clips[w->clip_count - 1];
    char q[VBP_CLIP_LABEL_MAX];
    if (c->frame_count == 0)
        return vbp_fail(err, VBP_E_INPUT, "%s: clip '%s' has no frames", w->path, clip_label(q, c));
    if (w->clip_heatmaps != c->frame_count)
        return vbp_fail(err, VBP_E_INPUT, "%s: clip '%s' has %llu frames but %llu heatmaps", w->path,
                        clip_label(q, c), (unsigned long long)c->frame_count,
                        (unsigned long long)w->clip_heatmaps);
    w->in_clip = 0;
    return VBP_OK;
}

/* Append the clip table or the frame index (8-aligned) and fill its section entry. */
static int write_table(vbp_writer *w, int which, vbp_section *s, vbp_error *err)
{
    int rc = pad_to(w, VBP_LZ4_ALIGN, err);
    if (rc)
        return rc;
    uint64_t count = which == VBP_SEC_CLIPS ? w->clip_count : w->frame_count;
    size_t esize = which == VBP_SEC_CLIPS ? VBP_CLIP_ENTRY_SIZE : VBP_FRAME_ENTRY_SIZE;
    uint8_t buf[64 * VBP_CLIP_ENTRY_SIZE];
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", w->path);
    XXH3_64bits_reset(st);
    s->offset = w->pos;
    s->length = count * esize;
    for (uint64_t i = 0; i < count && !rc;) {
        size_t n = 0;
        for (; i < count && n + esize <= sizeof buf; i++, n += esize) {
            if (which == VBP_SEC_CLIPS)
                vbp_clip_encode(&w->clips[i], buf + n);
            else
                vbp_frame_entry_encode(&w->frames[i], buf + n);
        }
        XXH3_64bits_update(st, buf, n);
        rc = write_all(w, buf, n, err);
    }
    s->checksum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return rc;
}

int vbp_writer_finish(vbp_writer *w, vbp_error *err)
{
    int rc = usable(w, err);
    char q[VBP_CLIP_LABEL_MAX];
    if (!rc && w->in_clip)
        rc = vbp_fail(err, VBP_E_ARG, "%s: clip '%s' was not ended", w->path,
                      clip_label(q, &w->clips[w->clip_count - 1]));
    if (!rc && w->clip_count == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: a pack needs at least one clip", w->path);
    if (rc) {
        vbp_writer_abort(w);
        return rc;
    }
    vbp_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, VBP_MAGIC, VBP_MAGIC_SIZE);
    h.major = VBP_VERSION_MAJOR;
    h.minor = w->any_source ? 1 : 0; /* without sources, exactly the 1.0 bytes */
    h.header_size = VBP_HEADER_SIZE;
    h.geometry = w->opts.geometry;
    h.codec = (uint32_t)w->opts.codec;
    h.clip_count = w->clip_count;
    h.frame_count = w->frame_count;
    h.clip_entry_size = VBP_CLIP_ENTRY_SIZE;
    h.frame_entry_size = VBP_FRAME_ENTRY_SIZE;
    h.raw_align = VBP_ALIGN;
    h.lz4_align = VBP_LZ4_ALIGN;
    h.sec[VBP_SEC_DATA].offset = VBP_ALIGN;
    h.sec[VBP_SEC_DATA].length = w->pos - VBP_ALIGN;
    rc = write_table(w, VBP_SEC_CLIPS, &h.sec[VBP_SEC_CLIPS], err);
    if (!rc)
        rc = write_table(w, VBP_SEC_FRAMES, &h.sec[VBP_SEC_FRAMES], err);
    if (!rc) {
        uint8_t buf[VBP_HEADER_SIZE];
        h.file_size = w->pos;
        vbp_header_encode(&h, buf);
        if (pwrite(w->file.fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf)
            rc = vbp_fail(err, VBP_E_IO, "%s: cannot write header: %s", w->path, strerror(errno));
    }
    if (!rc)
        rc = vbp_atomic_commit(&w->file, w->opts.overwrite, err); /* releases w->file either way */
    writer_free(w);
    return rc;
}

void vbp_writer_abort(vbp_writer *w)
{
    if (w)
        writer_free(w);
}

int vbp_writer_remove_stale(const char *path, vbp_stale_fn removed, void *ctx, vbp_error *err)
{
    return vbp_temp_sweep(path, removed, ctx, err);
}

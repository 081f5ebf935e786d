/*
 * pack_read.c - the zero-copy pack reader: open (map + validate), lookups,
 * record decoding and full checksum verification.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4.h>
#include <xxhash.h>
#include "internal.h"
#include "pack_format.h"
#include "pack_guard.h"
#include "vbp_names.h"

struct vbp_pack {
    char *path;
    int fd;
    const uint8_t *map;
    size_t size;
    struct timespec mtime; /* at open: vbp_pack_check_unchanged compares */
    vbp_header hdr;
    vbp_pack_info info;
    vbp_clip *clips;
    const uint8_t *index; /* frame index inside the map */
};

void vbp_pack_close(vbp_pack *p)
{
    if (!p)
        return;
    vbp_guard_unregister(p);
    if (p->map)
        munmap((void *)p->map, p->size);
    if (p->fd >= 0)
        close(p->fd);
    free(p->clips);
    free(p->path);
    free(p);
}

static void fill_info(vbp_pack *p)
{
    const vbp_header *h = &p->hdr;
    vbp_pack_info *i = &p->info;
    i->version_major = h->major;
    i->version_minor = h->minor;
    i->flags = h->flags;
    i->geometry = h->geometry;
    i->default_codec = (vbp_codec)h->codec;
    i->clip_count = h->clip_count;
    i->frame_count = h->frame_count;
    i->file_size = h->file_size;
    i->data_offset = h->sec[VBP_SEC_DATA].offset;
    i->data_size = h->sec[VBP_SEC_DATA].length;
    i->fingerprint = h->checksum;
    for (uint64_t c = 0; c < h->clip_count; c++) {
        i->clips_per_split[p->clips[c].split]++;
        i->frames_per_split[p->clips[c].split] += p->clips[c].frame_count;
    }
}

int vbp_pack_open(const char *path, vbp_pack **out, vbp_error *err)
{
    *out = NULL;
    if (!path)
        return vbp_fail(err, VBP_E_ARG, "no pack path");
    vbp_pack *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path))) {
        free(p);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    }
    int rc = VBP_OK;
    struct stat st;
    p->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (p->fd < 0 || fstat(p->fd, &st) != 0)
        rc = vbp_fail(err, VBP_E_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = vbp_fail(err, VBP_E_IO, "%s: not a regular file", path);
    else if (st.st_size == 0) /* cannot be mapped; validation says the same of 1..255 bytes */
        rc = vbp_fail(err, VBP_E_TRUNCATED, "%s: file is 0 bytes, shorter than the %u-byte header",
                      path, VBP_HEADER_SIZE);
    if (!rc) {
        p->size = (size_t)st.st_size;
        p->mtime = st.st_mtim;
        void *m = mmap(NULL, p->size, PROT_READ, MAP_SHARED, p->fd, 0);
        if (m == MAP_FAILED)
            rc = vbp_fail(err, VBP_E_IO, "%s: cannot map: %s", path, strerror(errno));
        else {
            p->map = m;
            vbp_guard_register(p, p->map, p->size, path); /* validation reads it too */
        }
    }
    if (!rc)
        rc = vbp_pack_validate(path, p->map, p->size, &p->hdr, &p->clips, err);
    if (rc) {
        vbp_pack_close(p);
        return rc;
    }
    p->index = p->map + p->hdr.sec[VBP_SEC_FRAMES].offset;
    fill_info(p);
    *out = p;
    return VBP_OK;
}

const vbp_pack_info *vbp_pack_get_info(const vbp_pack *p) { return &p->info; }
const char *vbp_pack_path(const vbp_pack *p) { return p->path; }
int vbp_pack_fd(const vbp_pack *p) { return p->fd; }

const uint8_t *vbp_pack_map(const vbp_pack *p, size_t *size)
{
    if (size)
        *size = p->size;
    return p->map;
}

const vbp_clip *vbp_pack_clip(const vbp_pack *p, uint64_t i)
{
    return i < p->hdr.clip_count ? &p->clips[i] : NULL;
}

static void pack_clip_name(const void *ctx, size_t i, const char **group, const char **name)
{
    const vbp_clip *c = &((const vbp_pack *)ctx)->clips[i];
    *group = c->group;
    *name = c->name;
}

void vbp_pack_name_set(const vbp_pack *p, vbp_name_set *set)
{
    set->count = (size_t)p->hdr.clip_count;
    set->clip = pack_clip_name;
    set->ctx = p;
}

int64_t vbp_pack_find_clip(const vbp_pack *p, const char *name)
{
    vbp_name_set set;
    vbp_name_pick pick;
    vbp_pack_name_set(p, &set);
    if (vbp_name_resolve(&set, name, VBP_NAME_ONE_CLIP, &pick, NULL) == VBP_OK)
        return (int64_t)pick.first;
    return pick.count ? VBP_CLIP_AMBIGUOUS : -1;
}

uint64_t vbp_pack_clip_of_frame(const vbp_pack *p, uint64_t f)
{
    uint64_t lo = 0, hi = p->hdr.clip_count; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (p->clips[mid].first_frame <= f)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void entry(const vbp_pack *p, uint64_t f, vbp_frame_entry *e)
{
    vbp_frame_entry_decode(p->index + f * VBP_FRAME_ENTRY_SIZE, e);
}

int vbp_pack_record(const vbp_pack *p, uint64_t f, vbp_record_kind kind, vbp_record *out)
{
    if (f >= p->hdr.frame_count || (kind != VBP_REC_FRAME && kind != VBP_REC_HEATMAP))
        return VBP_E_ARG;
    vbp_frame_entry e;
    entry(p, f, &e);
    const vbp_record_desc *d = &e.rec[kind];
    out->stored = p->map + d->offset;
    out->stored_size = d->stored_size;
    out->raw_size = d->raw_size;
    out->checksum = d->checksum;
    out->codec = (vbp_codec)d->codec;
    return VBP_OK;
}

vbp_label vbp_pack_label(const vbp_pack *p, uint64_t f)
{
    if (f >= p->hdr.frame_count)
        return (vbp_label){VBP_NO_LABEL, -1.0f, -1.0f};
    vbp_frame_entry e;
    entry(p, f, &e);
    return e.label;
}

int vbp_record_decode(const vbp_record *rec, uint8_t *dst, size_t dst_size, vbp_error *err)
{
    if (!rec || !dst || dst_size < rec->raw_size)
        return vbp_fail(err, VBP_E_ARG, "record decode: destination smaller than %llu bytes",
                        rec ? (unsigned long long)rec->raw_size : 0ull);
    if (rec->codec == VBP_CODEC_RAW) {
        memcpy(dst, rec->stored, (size_t)rec->raw_size);
        return VBP_OK;
    }
    if (rec->codec != VBP_CODEC_LZ4)
        return vbp_fail(err, VBP_E_CODEC, "unknown codec %d", (int)rec->codec);
    int n = LZ4_decompress_safe((const char *)rec->stored, (char *)dst, (int)rec->stored_size,
                                (int)rec->raw_size);
    if (n < 0 || (uint64_t)n != rec->raw_size)
        return vbp_fail(err, VBP_E_CODEC, "lz4 record of %llu bytes does not decode to %llu bytes",
                        (unsigned long long)rec->stored_size, (unsigned long long)rec->raw_size);
    return VBP_OK;
}

int vbp_pack_check_unchanged(const vbp_pack *p, vbp_error *err)
{
    struct stat st;
    if (fstat(p->fd, &st) != 0)
        return vbp_fail(err, VBP_E_IO, "%s: cannot stat: %s", p->path, strerror(errno));
    if ((uint64_t)st.st_size < p->size)
        return vbp_fail(err, VBP_E_TRUNCATED, "%s: file truncated while in use (%lld bytes, was %zu)",
                        p->path, (long long)st.st_size, p->size);
    if ((uint64_t)st.st_size != p->size || st.st_mtim.tv_sec != p->mtime.tv_sec ||
        st.st_mtim.tv_nsec != p->mtime.tv_nsec)
        return vbp_fail(err, VBP_E_IO, "%s: file rewritten while in use", p->path);
    return VBP_OK;
}

int vbp_pack_verify(const vbp_pack *p, vbp_progress_fn progress, void *ctx, vbp_error *err)
{
    return vbp_pack_check_bytes(p, &p->hdr, p->clips, progress, ctx, err);
}

/*
 * loader_batch.c - the one batch code path: uint8 records of the mapping
 * (or an lz4 record decoded into a scratch row) -> float32 v / 255 in the
 * batch, with the horizontal flip fused into the conversion.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"
#include "loader_internal.h"

/* rows x w uint8 -> float32 / 255, each row mirrored when flip. */
static void convert_rows(float *restrict dst, const uint8_t *restrict src, size_t rows, size_t w,
                         int flip)
{
    if (!flip) {
        size_t n = rows * w;
        for (size_t i = 0; i < n; i++)
            dst[i] = (float)src[i] / 255.0f;
        return;
    }
    for (size_t r = 0; r < rows; r++, dst += w, src += w) {
        const uint8_t *end = src + w - 1;
        for (size_t i = 0; i < w; i++)
            dst[i] = (float)end[-(ptrdiff_t)i] / 255.0f;
    }
}

/*
 * Convert record `kind` of global frame f (planes x H x W) into dst.
 * *scratch is allocated on the first lz4 record (the caller frees it).
 * Fails with VBP_E_FORMAT (size disagrees with the geometry), VBP_E_CODEC,
 * VBP_E_NOMEM.
 */
static int convert_record(const vbp_loader *ld, uint64_t f, vbp_record_kind kind, float *dst,
                          int flip, uint8_t **scratch, vbp_error *err)
{
    const vbp_geometry *g = &ld->geo;
    size_t planes = kind == VBP_REC_FRAME ? g->frame_channels : 1;
    size_t want = planes * g->height * g->width;
    vbp_record rec;
    if (vbp_pack_record(ld->pack, f, kind, &rec))
        return vbp_fail(err, VBP_E_FORMAT, "%s: frame %llu is not in the index",
                        vbp_pack_path(ld->pack), (unsigned long long)f);
    if (rec.raw_size != want || (rec.codec == VBP_CODEC_RAW && rec.stored_size != want))
        return vbp_fail(err, VBP_E_FORMAT, "%s: %s record of frame %llu holds %llu bytes, not %zu",
                        vbp_pack_path(ld->pack), kind == VBP_REC_FRAME ? "frame" : "heatmap",
                        (unsigned long long)f, (unsigned long long)rec.raw_size, want);
    const uint8_t *src = rec.stored;
    if (rec.codec != VBP_CODEC_RAW) {
        if (!*scratch && !(*scratch = malloc(vbp_batch_scratch_size(ld))))
            return vbp_fail(err, VBP_E_NOMEM, "no memory for a decode row");
        int rc = vbp_record_decode(&rec, *scratch, want, err);
        if (rc)
            return rc;
        src = *scratch;
    }
    convert_rows(dst, src, planes * g->height, g->width, flip);
    return VBP_OK;
}

/* One window: seq frames into x (seq*C planes), seq heatmaps into y. */
static int assemble_one(const vbp_loader *ld, uint64_t first_frame, int flip, float *x, float *y,
                        uint8_t **scratch, vbp_error *err)
{
    size_t hw = (size_t)ld->geo.height * ld->geo.width;
    size_t frame_floats = ld->geo.frame_channels * hw;
    for (uint32_t t = 0; t < ld->opts.seq; t++) {
        int rc = convert_record(ld, first_frame + t, VBP_REC_FRAME, x + t * frame_floats, flip,
                                scratch, err);
        if (!rc)
            rc = convert_record(ld, first_frame + t, VBP_REC_HEATMAP, y + t * hw, flip, scratch,
                                err);
        if (rc)
            return rc;
    }
    return VBP_OK;
}

size_t vbp_batch_scratch_size(const vbp_loader *ld)
{
    return (size_t)ld->geo.frame_channels * ld->geo.height * ld->geo.width;
}

int vbp_loader_assemble(const vbp_loader *ld, const uint64_t *samples, const uint8_t *flips,
                        size_t n, float *x, float *y, vbp_error *err)
{
    uint8_t *scratch = NULL;
    int rc = VBP_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        vbp_sample s;
        if (vbp_loader_sample(ld, samples[i], &s)) {
            rc = vbp_fail(err, VBP_E_ARG, "sample %llu out of range (%llu samples)",
                          (unsigned long long)samples[i], (unsigned long long)ld->shape.samples);
            break;
        }
        rc = assemble_one(ld, s.first_frame, flips && flips[i], x + i * ld->shape.x_floats,
                          y + i * ld->shape.y_floats, &scratch, err);
    }
    free(scratch);
    return rc;
}

size_t vbp_batch_count(const vbp_loader *ld, uint64_t b)
{
    uint64_t first = b * ld->shape.batch;
    if (b >= ld->shape.batches || first >= ld->shape.samples)
        return 0;
    uint64_t left = ld->shape.samples - first;
    return left < ld->shape.batch ? (size_t)left : ld->shape.batch;
}

int vbp_batch_fill(const vbp_loader *ld, uint64_t b, vbp_slot *slot, uint8_t **scratch,
                   vbp_error *err)
{
    size_t n = vbp_batch_count(ld, b);
    uint64_t pos = b * ld->shape.batch;
    int rc = VBP_OK;
    slot->n = n;
    for (size_t i = 0; i < n && !rc; i++) {
        vbp_sample *s = &slot->samples[i];
        vbp_index_sample(ld, ld->order[pos + i], s);
        s->flip = vbp_loader_flip(ld, ld->epoch, pos + i);
        rc = assemble_one(ld, s->first_frame, s->flip, slot->x + i * ld->shape.x_floats,
                          slot->y + i * ld->shape.y_floats, scratch, err);
    }
    return rc;
}

/* madvise(WILLNEED) the pages spanning records [f, f+count) of one kind. */
static void willneed_span(const vbp_loader *ld, uint64_t f, uint64_t count, vbp_record_kind kind)
{
    static const uintptr_t page = 4096;
    uintptr_t lo = UINTPTR_MAX, hi = 0, sum = 0;
    for (uint64_t i = 0; i < count; i++) {
        vbp_record rec;
        if (vbp_pack_record(ld->pack, f + i, kind, &rec))
            return;
        uintptr_t a = (uintptr_t)rec.stored, e = a + rec.stored_size;
        lo = a < lo ? a : lo;
        hi = e > hi ? e : hi;
        sum += rec.stored_size;
    }
    if (hi <= lo || hi - lo > 4 * sum + 2 * page)
        return; /* records of a window not neighbours: not worth a wide hint */
    lo &= ~(page - 1);
    madvise((void *)lo, hi - lo, MADV_WILLNEED);
}

void vbp_batch_willneed(const vbp_loader *ld, uint64_t b)
{
    if (ld->shape.mode != VBP_LOAD_DISK)
        return;
    size_t n = vbp_batch_count(ld, b);
    for (size_t i = 0; i < n; i++) {
        vbp_sample s;
        vbp_index_sample(ld, ld->order[b * ld->shape.batch + i], &s);
        willneed_span(ld, s.first_frame, ld->opts.seq, VBP_REC_FRAME);
        willneed_span(ld, s.first_frame, ld->opts.seq, VBP_REC_HEATMAP);
    }
}

/*
 * loader_batch.c - the one batch code path: uint8 records of the mapping
 * (or an lz4 record decoded into a scratch row) -> float32 v / 255 in the
 * batch (binary heatmaps and jittered frames through a value table), with
 * the horizontal flip and the shift fused into the conversion.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cpu.h"
#include "internal.h"
#include "loader_internal.h"
#include "vbp_names.h"

/*
 * Batches are written with non-temporal (streaming) stores where the CPU has
 * them: a batch is larger than the caches and is read later by the trainer,
 * so caching it only evicts the pack pages being read and costs a read of
 * every destination line first.  The values are the same either way:
 * v / 255.0f is one correctly rounded division.  The streaming code is
 * compiled for AVX2 whatever the build flags and used when vbp_cpu_isa()
 * allows it (src/util/cpu.c; VBP_ISA=generic forces the plain loops).
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define VBP_STREAM 1
#define VBP_TARGET_AVX2 __attribute__((target("avx2")))

/* 16 uint8 at src (reversed when rev) -> 16 floats / 255 at 32-byte aligned dst. */
static inline VBP_TARGET_AVX2 void stream16(float *dst, const uint8_t *src, int rev)
{
    __m128i b = _mm_loadu_si128((const __m128i *)src);
    if (rev)
        b = _mm_shuffle_epi8(b, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    const __m256 k = _mm256_set1_ps(255.0f);
    _mm256_stream_ps(dst, _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), k));
    _mm256_stream_ps(dst + 8, _mm256_div_ps(
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))), k));
}

/* 16 uint8 at src (reversed when rev) -> 1.0f where v >= cut, else 0.0f, at 32-byte aligned dst. */
static inline VBP_TARGET_AVX2 void stream16_cut(float *dst, const uint8_t *src, int rev,
                                                uint8_t cut)
{
    __m128i b = _mm_loadu_si128((const __m128i *)src);
    if (rev)
        b = _mm_shuffle_epi8(b, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    /* max(v, cut) == v exactly when v >= cut: 0xff bytes, sign-extended to all-ones words */
    __m128i ge = _mm_cmpeq_epi8(_mm_max_epu8(b, _mm_set1_epi8((char)cut)), b);
    const __m256i one = _mm256_set1_epi32(0x3f800000); /* 1.0f */
    _mm256_stream_ps(dst, _mm256_castsi256_ps(_mm256_and_si256(_mm256_cvtepi8_epi32(ge), one)));
    _mm256_stream_ps(dst + 8, _mm256_castsi256_ps(
        _mm256_and_si256(_mm256_cvtepi8_epi32(_mm_srli_si128(ge, 8)), one)));
}

/*
 * The streamed part of convert_run: v / 255 (lut NULL) or the binary table of
 * cut, from the first 64-byte aligned destination while 16 values remain.
 * Returns how many of the n values it wrote (from the start); lut with cut 0
 * (jitter tables) is not vectorised: returns 0.
 */
static VBP_TARGET_AVX2 size_t convert_stream(float *restrict dst, const uint8_t *restrict src,
                                             size_t n, int flip, const float *restrict lut,
                                             uint32_t cut)
{
    size_t i = 0;
    if (lut && !cut)
        return 0;
    for (; i < n && ((uintptr_t)(dst + i) & 63); i++)
        dst[i] = lut ? lut[src[flip ? n - 1 - i : i]] : (float)src[flip ? n - 1 - i : i] / 255.0f;
    if (cut)
        for (; i + 16 <= n; i += 16)
            stream16_cut(dst + i, flip ? src + n - 16 - i : src + i, flip, (uint8_t)cut);
    else
        for (; i + 16 <= n; i += 16)
            stream16(dst + i, flip ? src + n - 16 - i : src + i, flip);
    return i;
}
#endif

/*
 * n uint8 -> float32: lut[v] when lut, else v / 255; mirrored (dst[i] from
 * src[n-1-i]) when flip.  cut != 0: lut is the binary table of that cut
 * (v >= cut -> 1).  stream: the CPU runs convert_stream.
 */
static void convert_run(float *restrict dst, const uint8_t *restrict src, size_t n, int flip,
                        const float *restrict lut, uint32_t cut, int stream)
{
    size_t i = 0;
#ifdef VBP_STREAM
    if (stream)
        i = convert_stream(dst, src, n, flip, lut, cut);
#else
    (void)cut;
    (void)stream;
#endif
    if (lut) {
        if (flip)
            for (; i < n; i++)
                dst[i] = lut[src[n - 1 - i]];
        else
            for (; i < n; i++)
                dst[i] = lut[src[i]];
        return;
    }
    if (flip)
        for (; i < n; i++)
            dst[i] = (float)src[n - 1 - i] / 255.0f;
    else
        for (; i < n; i++)
            dst[i] = (float)src[i] / 255.0f;
}

/* How a record's values and geometry change on the way into the batch. */
typedef struct conv {
    const float *lut;  /* 256 values, NULL for v / 255 */
    uint32_t cut;      /* lut is the binary table of this cut (faster path); 0 otherwise */
    int flip;          /* mirror each row (before the translation) */
    int32_t dx, dy;    /* translation in pixels, zero fill */
    int stream;        /* streamed vector stores (convert_stream) */
} conv;

/*
 * planes x h x w uint8 -> float32 through k: pixel (x, y) of a plane takes
 * the mirrored (when flip) source pixel (x - dx, y - dy), 0 outside.
 */
static void convert_planes(float *restrict dst, const uint8_t *restrict src, size_t planes,
                           size_t h, size_t w, const conv *k)
{
    if (!k->dx && !k->dy && !k->flip) {
        convert_run(dst, src, planes * h * w, 0, k->lut, k->cut, k->stream);
        return;
    }
    const int64_t W = (int64_t)w;
    const int64_t x0 = k->dx > 0 ? k->dx : 0, x1 = k->dx < 0 ? W + k->dx : W;
    for (size_t r = 0; r < planes * h; r++, dst += w) {
        int64_t sr = (int64_t)(r % h) - k->dy;
        if (sr < 0 || sr >= (int64_t)h || x1 <= x0) {
            memset(dst, 0, w * sizeof *dst);
            continue;
        }
        const uint8_t *row = src + (r - r % h + (size_t)sr) * w;
        /* Rows read right to left are not followed by the hardware prefetcher. */
        if (k->flip && r + 2 < planes * h)
            for (size_t q = 0; q < w; q += 64)
                __builtin_prefetch(row + 2 * w + q);
        memset(dst, 0, (size_t)x0 * sizeof *dst);
        memset(dst + x1, 0, (size_t)(W - x1) * sizeof *dst);
        int64_t first = k->flip ? W - x1 + k->dx : x0 - k->dx;
        convert_run(dst + x0, row + first, (size_t)(x1 - x0), k->flip, k->lut, k->cut,
                    k->stream);
    }
}

/*
 * The `kind` record of global frame f (planes x H x W bytes): *src points into the mapping
 * (raw records) or at *buf, where an lz4 record is decoded; a NULL *buf is allocated (one
 * frame's bytes; the caller frees it).  Fails with VBP_E_FORMAT (size disagrees with the
 * geometry), VBP_E_CODEC, VBP_E_NOMEM.
 */
static int record_bytes(const vbp_loader *ld, uint64_t f, vbp_record_kind kind, uint8_t **buf,
                        const uint8_t **src, vbp_error *err)
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
    *src = rec.stored;
    if (rec.codec != VBP_CODEC_RAW) {
        /* one frame: the largest record */
        if (!*buf && !(*buf = malloc((size_t)g->frame_channels * g->height * g->width)))
            return vbp_fail(err, VBP_E_NOMEM, "no memory for a decode row");
        vbp_error derr;
        int rc = vbp_record_decode(&rec, *buf, want, &derr);
        if (rc) {
            const vbp_clip *c = vbp_pack_clip(ld->pack, vbp_pack_clip_of_frame(ld->pack, f));
            char q[VBP_CLIP_LABEL_MAX];
            return vbp_fail(err, rc, "%s: %s of frame %llu of clip '%s': %s",
                            vbp_pack_path(ld->pack), kind == VBP_REC_FRAME ? "frame" : "heatmap",
                            (unsigned long long)(f - c->first_frame),
                            vbp_clip_label(q, sizeof q, c->group, c->name),
                            vbp_error_message(&derr));
        }
        *src = *buf;
    }
    return VBP_OK;
}

int vbp_loader_frame_bytes(const vbp_loader *ld, uint64_t f, uint8_t **buf, const uint8_t **src,
                           vbp_error *err)
{
    return record_bytes(ld, f, VBP_REC_FRAME, buf, src, err);
}

/* Convert record `kind` of global frame f into dst through k (record_bytes' errors). */
static int convert_record(const vbp_loader *ld, uint64_t f, vbp_record_kind kind, float *dst,
                          const conv *k, uint8_t **scratch, vbp_error *err)
{
    const uint8_t *src;
    int rc = record_bytes(ld, f, kind, scratch, &src, err);
    if (!rc)
        convert_planes(dst, src, kind == VBP_REC_FRAME ? ld->geo.frame_channels : 1,
                       ld->geo.height, ld->geo.width, k);
    return rc;
}

/* One window: seq frames into x (seq*C planes, then the background's C when bg != NULL), seq
 * heatmaps into y; aug NULL: none. */
static int assemble_one(const vbp_loader *ld, uint64_t first_frame, const uint8_t *bg, int flip,
                        const vbp_augment *aug, float *x, float *y, uint8_t **scratch,
                        vbp_error *err)
{
    size_t hw = (size_t)ld->geo.height * ld->geo.width;
    size_t frame_floats = ld->geo.frame_channels * hw;
    /* One fstat per window: a pack truncated under us is an error, not a SIGBUS
     * (the race left between this check and the reads is the guard's: vbp_guard.h). */
    int check = vbp_pack_check_unchanged(ld->pack, err);
    if (check)
        return check;
    static const vbp_augment none = { 1.0f, 0.0f, 0, 0 };
    if (!aug)
        aug = &none;
    /* One value table for the window's frames: the same gain and bias for all of them. */
    float lut[256];
    const float *frame_lut = NULL;
    if (aug->gain != 1.0f || aug->bias != 0.0f) {
        for (int v = 0; v < 256; v++) {
            float t = aug->gain * ((float)v / 255.0f) + aug->bias;
            lut[v] = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
        }
        frame_lut = lut;
    }
    const int binary = ld->opts.target == VBP_TARGET_BINARY;
    const conv fk = { frame_lut, 0, flip, aug->dx, aug->dy, ld->stream };
    const conv hk = { binary ? ld->target_lut : NULL, binary ? ld->opts.target_cut : 0, flip,
                      aug->dx, aug->dy, ld->stream };
    for (uint32_t t = 0; t < ld->opts.seq; t++) {
        int rc = convert_record(ld, first_frame + t, VBP_REC_FRAME, x + t * frame_floats, &fk,
                                scratch, err);
        if (!rc)
            rc = convert_record(ld, first_frame + t, VBP_REC_HEATMAP, y + t * hw, &hk, scratch,
                                err);
        if (rc)
            return rc;
    }
    if (bg)
        convert_planes(x + ld->opts.seq * frame_floats, bg, ld->geo.frame_channels,
                       ld->geo.height, ld->geo.width, &fk);
#ifdef VBP_STREAM
    if (ld->stream)
        _mm_sfence(); /* streamed stores visible before the batch is handed over */
#endif
    return VBP_OK;
}

/* The background frame of sample s's clip (opts.background), else NULL. */
static const uint8_t *clip_background(const vbp_loader *ld, uint64_t s)
{
    return ld->bg ? ld->bg + (size_t)ld->sel_of[s] * ld->geo.frame_channels * ld->geo.height *
                                 ld->geo.width
                  : NULL;
}

int vbp_loader_assemble(const vbp_loader *ld, const uint64_t *samples, const uint8_t *flips,
                        size_t n, float *x, float *y, vbp_error *err)
{
    return vbp_loader_assemble_aug(ld, samples, flips, NULL, n, x, y, err);
}

int vbp_loader_assemble_aug(const vbp_loader *ld, const uint64_t *samples, const uint8_t *flips,
                            const vbp_augment *augs, size_t n, float *x, float *y,
                            vbp_error *err)
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
        rc = assemble_one(ld, s.first_frame, clip_background(ld, samples[i]), flips && flips[i],
                          augs ? &augs[i] : NULL,
                          x + i * ld->shape.x_floats, y + i * ld->shape.y_floats, &scratch, err);
    }
    free(scratch);
    return rc;
}

/* Samples in batch b of an epoch (0 past the end). */
static size_t batch_count(const vbp_loader *ld, uint64_t b)
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
    size_t lo, hi;
    slot->total = batch_count(ld, b);
    vbp_loader_part(slot->total, ld->opts.part, ld->opts.parts, &lo, &hi);
    /* Positions in the epoch, hence flips and augmentations, are those of the whole batch. */
    uint64_t pos = b * ld->shape.batch + lo;
    size_t n = hi - lo;
    int rc = VBP_OK;
    slot->first = lo;
    slot->n = n;
    for (size_t i = 0; i < n && !rc; i++) {
        vbp_sample *s = &slot->samples[i];
        vbp_index_sample(ld, ld->order[pos + i], s);
        s->flip = vbp_loader_flip(ld, ld->epoch, pos + i);
        s->aug = vbp_loader_augment(ld, ld->epoch, pos + i);
        rc = assemble_one(ld, s->first_frame, clip_background(ld, s->sample), s->flip, &s->aug,
                          slot->x + i * ld->shape.x_floats, slot->y + i * ld->shape.y_floats,
                          scratch, err);
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
    /* the hints read index entries: not from a pack that shrank (assembly reports that) */
    if (ld->shape.mode != VBP_LOAD_DISK || vbp_pack_check_unchanged(ld->pack, NULL))
        return;
    size_t lo, hi;
    vbp_loader_part(batch_count(ld, b), ld->opts.part, ld->opts.parts, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        vbp_sample s;
        vbp_index_sample(ld, ld->order[b * ld->shape.batch + i], &s);
        willneed_span(ld, s.first_frame, ld->opts.seq, VBP_REC_FRAME);
        willneed_span(ld, s.first_frame, ld->opts.seq, VBP_REC_HEATMAP);
    }
}

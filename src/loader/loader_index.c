/*
 * loader_index.c - the sample index (windows of seq frames within a clip)
 * and the epoch orders: shuffle, sequential, locality.
 *
 * Samples are numbered in pack order: the windows of the first selected
 * clip, then the next one's.  The map sample -> (clip, first frame) is O(1):
 * a 4-byte selected-clip number per sample, then one multiply.
 *
 * Randomness is a counter-based hash (splitmix64's finaliser) keyed by
 * (seed, epoch, stream), so an order or a flip never depends on the state of
 * a generator another thread or an earlier epoch advanced.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "loader_internal.h"
#include "vbp_names.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct rng { uint64_t state; } rng;

static rng rng_for(uint64_t seed, uint64_t epoch, uint64_t stream)
{
    rng r = { mix64(mix64(seed + 0x9e3779b97f4a7c15ull) ^ mix64(epoch * 0x2545f4914f6cdd1dull + stream)) };
    return r;
}

static uint64_t rng_next(rng *r)
{
    r->state += 0x9e3779b97f4a7c15ull;
    return mix64(r->state);
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire). */
static uint64_t rng_below(rng *r, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t t = -n % n;
        while (low < t) {
            m = (unsigned __int128)rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

static void shuffle(rng *r, uint64_t *a, uint64_t n)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = rng_below(r, i);
        uint64_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

enum { STREAM_ORDER = 1, STREAM_FLIP = 2, STREAM_AUGMENT = 3 };

int vbp_loader_flip(const vbp_loader *ld, uint64_t epoch, uint64_t position)
{
    float p = ld->opts.flip_prob;
    if (!(p > 0.0f))
        return 0;
    if (p >= 1.0f)
        return 1;
    rng r = rng_for(ld->opts.seed, epoch, STREAM_FLIP);
    uint64_t h = mix64(r.state ^ mix64(position + 0x632be59bd9b4e019ull));
    return (float)(h >> 40) * 0x1p-24f < p;
}

vbp_augment vbp_loader_augment(const vbp_loader *ld, uint64_t epoch, uint64_t position)
{
    vbp_augment a = { 1.0f, 0.0f, 0, 0 };
    const vbp_loader_opts *o = &ld->opts;
    if (!(o->contrast > 0.0f) && !(o->brightness > 0.0f) && !o->shift)
        return a;
    rng r = rng_for(o->seed, epoch, STREAM_AUGMENT);
    r.state ^= mix64(position + 0x3c6ef372fe94f82bull);
    /* Four draws always, so each option's values do not depend on the others being on. */
    float u1 = (float)(rng_next(&r) >> 40) * 0x1p-24f, u2 = (float)(rng_next(&r) >> 40) * 0x1p-24f;
    uint64_t sx = rng_below(&r, 2 * (uint64_t)o->shift + 1), sy = rng_below(&r, 2 * (uint64_t)o->shift + 1);
    if (o->contrast > 0.0f)
        a.gain = 1.0f + o->contrast * (2.0f * u1 - 1.0f);
    if (o->brightness > 0.0f)
        a.bias = o->brightness * (2.0f * u2 - 1.0f);
    a.dx = (int32_t)sx - (int32_t)o->shift;
    a.dy = (int32_t)sy - (int32_t)o->shift;
    return a;
}

static uint64_t windows_of(uint64_t frames, uint32_t seq, uint32_t stride)
{
    return frames >= seq ? (frames - seq) / stride + 1 : 0;
}

int vbp_index_build(vbp_loader *ld, vbp_error *err)
{
    const vbp_pack_info *info = vbp_pack_get_info(ld->pack);
    const char *path = vbp_pack_path(ld->pack);
    uint32_t seq = ld->opts.seq, stride = ld->opts.stride;
    uint64_t nsel = 0, samples = 0, longest = 0, sel_frames = 0, data = 0;

    for (uint64_t c = 0; c < info->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(ld->pack, c);
        if (!(ld->opts.splits & VBP_SPLIT_BIT(clip->split)))
            continue;
        if (clip->frame_count > longest)
            longest = clip->frame_count;
        uint64_t w = windows_of(clip->frame_count, seq, stride);
        if (!w)
            continue;
        nsel++;
        samples += w;
        sel_frames += clip->frame_count;
        for (uint64_t f = 0; f < clip->frame_count; f++) {
            vbp_record fr, hm;
            if (vbp_pack_record(ld->pack, clip->first_frame + f, VBP_REC_FRAME, &fr) ||
                vbp_pack_record(ld->pack, clip->first_frame + f, VBP_REC_HEATMAP, &hm)) {
                char q[VBP_CLIP_LABEL_MAX];
                return vbp_fail(err, VBP_E_FORMAT, "%s: clip '%s' frame %llu is not in the index",
                                path, vbp_clip_label(q, sizeof q, clip->group, clip->name),
                                (unsigned long long)f);
            }
            data += fr.stored_size + hm.stored_size;
        }
    }
    if (!samples) {
        char names[64] = "";
        for (int s = 0; s < VBP_SPLIT_COUNT; s++)
            if (ld->opts.splits & VBP_SPLIT_BIT(s)) {
                if (names[0])
                    strcat(names, "+");
                strcat(names, vbp_split_name((vbp_split)s));
            }
        if (!longest)
            return vbp_fail(err, VBP_E_GEOMETRY, "%s: no clip in split %s", path, names);
        return vbp_fail(err, VBP_E_GEOMETRY,
                        "%s: no clip of split %s has %u frames (seq); the longest has %llu",
                        path, names, seq, (unsigned long long)longest);
    }
    if (nsel > UINT32_MAX)
        return vbp_fail(err, VBP_E_ARG, "%s: more than 2^32 clips", path);

    ld->nsel = nsel;
    ld->sel_clip = malloc(nsel * sizeof *ld->sel_clip);
    ld->sel_first_sample = malloc((nsel + 1) * sizeof *ld->sel_first_sample);
    ld->sel_first_frame = malloc(nsel * sizeof *ld->sel_first_frame);
    ld->sel_of = malloc(samples * sizeof *ld->sel_of);
    ld->order = malloc(samples * sizeof *ld->order);
    if (!ld->sel_clip || !ld->sel_first_sample || !ld->sel_first_frame || !ld->sel_of || !ld->order)
        return vbp_fail(err, VBP_E_NOMEM, "%s: no memory for the index of %llu samples", path,
                        (unsigned long long)samples);
    uint64_t k = 0, s = 0;
    for (uint64_t c = 0; c < info->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(ld->pack, c);
        uint64_t w = windows_of(clip->frame_count, seq, stride);
        if (!(ld->opts.splits & VBP_SPLIT_BIT(clip->split)) || !w)
            continue;
        ld->sel_clip[k] = c;
        ld->sel_first_sample[k] = s;
        ld->sel_first_frame[k] = clip->first_frame;
        for (uint64_t i = 0; i < w; i++)
            ld->sel_of[s + i] = (uint32_t)k;
        s += w;
        k++;
    }
    ld->sel_first_sample[nsel] = s;
    ld->shape.samples = samples;
    ld->shape.data_bytes = data;
    ld->sel_frames = sel_frames;

    /* LOCALITY geometry: a block holds about 16 MiB of records, a group
     * of open blocks about a quarter of the memory limit. */
    uint64_t per_sample = data / sel_frames * (stride < seq ? stride : seq);
    if (!per_sample)
        per_sample = 1;
    if (!ld->opts.block_samples) {
        uint64_t b = (16ull << 20) / per_sample;
        ld->opts.block_samples = (uint32_t)(b < 1 ? 1 : b > 65536 ? 65536 : b);
    }
    if (!ld->opts.open_blocks) {
        uint64_t g = ld->shape.memory_limit / 4 / (per_sample * ld->opts.block_samples);
        ld->opts.open_blocks = (uint32_t)(g < 2 ? 2 : g > 64 ? 64 : g);
    }
    return VBP_OK;
}

void vbp_index_free(vbp_loader *ld)
{
    free(ld->sel_clip);
    free(ld->sel_first_sample);
    free(ld->sel_first_frame);
    free(ld->sel_of);
    free(ld->order);
}

void vbp_index_sample(const vbp_loader *ld, uint64_t s, vbp_sample *out)
{
    uint32_t k = ld->sel_of[s];
    uint64_t start = (s - ld->sel_first_sample[k]) * ld->opts.stride;
    out->sample = s;
    out->clip = ld->sel_clip[k];
    out->clip_frame = start;
    out->first_frame = ld->sel_first_frame[k] + start;
    out->flip = 0;
    out->aug = (vbp_augment){ 1.0f, 0.0f, 0, 0 };
}

int vbp_loader_sample(const vbp_loader *ld, uint64_t sample, vbp_sample *out)
{
    if (sample >= ld->shape.samples)
        return VBP_E_ARG;
    vbp_index_sample(ld, sample, out);
    return VBP_OK;
}

/*
 * LOCALITY: cut the samples (in pack order, so neighbours share pages) into
 * blocks of block_samples, shuffle the blocks, then take them open_blocks at
 * a time and shuffle the samples of each group among themselves.  Only the
 * blocks of one group need to be resident at once.
 */
static int locality_order(const vbp_loader *ld, rng *r, uint64_t *out)
{
    uint64_t n = ld->shape.samples, bs = ld->opts.block_samples;
    uint64_t nb = (n + bs - 1) / bs;
    uint64_t *blocks = malloc(nb * sizeof *blocks);
    if (!blocks)
        return VBP_E_NOMEM;
    for (uint64_t b = 0; b < nb; b++)
        blocks[b] = b;
    shuffle(r, blocks, nb);
    uint64_t pos = 0;
    for (uint64_t g = 0; g < nb; g += ld->opts.open_blocks) {
        uint64_t start = pos;
        for (uint64_t b = g; b < nb && b < g + ld->opts.open_blocks; b++) {
            uint64_t first = blocks[b] * bs, last = first + bs < n ? first + bs : n;
            for (uint64_t s = first; s < last; s++)
                out[pos++] = s;
        }
        shuffle(r, out + start, pos - start);
    }
    free(blocks);
    return VBP_OK;
}

int vbp_index_order(const vbp_loader *ld, uint64_t epoch, uint64_t *out, vbp_error *err)
{
    uint64_t n = ld->shape.samples;
    rng r = rng_for(ld->opts.seed, epoch, STREAM_ORDER);
    switch (ld->shape.order) {
    case VBP_ORDER_LOCALITY:
        if (locality_order(ld, &r, out))
            return vbp_fail(err, VBP_E_NOMEM, "locality order: no memory for the block list");
        break;
    case VBP_ORDER_SHUFFLE:
        for (uint64_t i = 0; i < n; i++)
            out[i] = i;
        shuffle(&r, out, n);
        break;
    default:
        for (uint64_t i = 0; i < n; i++)
            out[i] = i;
        break;
    }
    return VBP_OK;
}

int vbp_loader_epoch_order(const vbp_loader *ld, uint64_t epoch, uint64_t *out, vbp_error *err)
{
    if (!out)
        return vbp_fail(err, VBP_E_ARG, "epoch order: NULL output");
    return vbp_index_order(ld, epoch, out, err);
}

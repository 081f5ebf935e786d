/*
 * fuzz_pack.c - libFuzzer target: a byte string opened as a pack, verified,
 * every clip, record and label read, every record decoded, every vbdump
 * report written (to /dev/null) and every window served by the loader (seq
 * 1 and 3, all splits, with flips).
 *
 * Each input is tried twice: as given, and "re-signed" (header and index
 * checksums recomputed where the sections lie inside the input), so that
 * mutations reach the checks behind the checksums instead of stopping at
 * them.  The bytes go through a memfd and the real vbp_pack_open path
 * (open, fstat, mmap, validate).  An accepted pack must satisfy the
 * invariants the reader promises its users (FUZZ_CHECK aborts otherwise);
 * every error message must be safe to print (names from the file escaped).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>
#include "fuzz_common.h"
#include "internal.h"
#include "vbp_dump.h"
#include "pack_format.h"
#include "vbp_loader.h"
#include "vbp_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *path; /* the input's memfd (fuzz_put) */

/* Everything a user of an accepted pack may do, checking what the API promises. */
static void use_pack(vbp_pack *p)
{
    const vbp_pack_info *in = vbp_pack_get_info(p);
    size_t map_size;
    const uint8_t *map = vbp_pack_map(p, &map_size);
    FUZZ_CHECK(map && map_size == in->file_size);
    const vbp_geometry *g = &in->geometry;
    FUZZ_CHECK(g->width >= 1 && g->height >= 1 && (g->frame_channels == 1 || g->frame_channels == 3));
    FUZZ_CHECK(in->clip_count >= 1 && in->clip_count <= in->frame_count);
    vbp_error err;
    int vrc = vbp_pack_verify(p, NULL, NULL, &err);
    FUZZ_CHECK(vrc == VBP_OK || ((vrc == VBP_E_CHECKSUM || vrc == VBP_E_FORMAT || vrc == VBP_E_CODEC ||
                                  vrc == VBP_E_TRUNCATED) && strstr(err.detail, path) &&
                                 fuzz_message_ok(err.detail)));
    uint64_t frames = 0, per_split[VBP_SPLIT_COUNT] = {0};
    for (uint64_t c = 0; c < in->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(p, c);
        FUZZ_CHECK(clip && clip->first_frame == frames && clip->frame_count >= 1);
        FUZZ_CHECK(memchr(clip->name, 0, VBP_NAME_MAX) && memchr(clip->group, 0, VBP_NAME_MAX));
        FUZZ_CHECK((unsigned)clip->split < VBP_SPLIT_COUNT);
        /* a clip's bare name fits it: it names that clip or is ambiguous (vbp_names.h) */
        int64_t found = vbp_pack_find_clip(p, clip->name);
        FUZZ_CHECK(found == VBP_CLIP_AMBIGUOUS || found == (int64_t)c);
        vbp_name_set set;
        vbp_name_pick pick;
        vbp_pack_name_set(p, &set);
        int nrc = vbp_name_resolve(&set, clip->name, VBP_NAME_ONE_CLIP, &pick, &err);
        FUZZ_CHECK(nrc == VBP_OK ? pick.first == c && pick.count == 1
                                 : pick.count >= 2 && fuzz_message_ok(err.detail));
        per_split[clip->split] += clip->frame_count;
        FUZZ_CHECK(vbp_pack_clip_of_frame(p, clip->first_frame) == c);
        frames += clip->frame_count;
        FUZZ_CHECK(vbp_pack_clip_of_frame(p, frames - 1) == c);
    }
    FUZZ_CHECK(vbp_pack_clip(p, in->clip_count) == NULL);
    FUZZ_CHECK(frames == in->frame_count);
    for (int s = 0; s < VBP_SPLIT_COUNT; s++)
        FUZZ_CHECK(per_split[s] == in->frames_per_split[s]);
    for (uint64_t f = 0; f < in->frame_count; f++) {
        vbp_label l = vbp_pack_label(p, f);
        FUZZ_CHECK(l.visibility <= 1 || l.visibility == VBP_NO_LABEL);
        for (int k = 0; k < 2; k++) {
            vbp_record r;
            FUZZ_CHECK(vbp_pack_record(p, f, (vbp_record_kind)k, &r) == VBP_OK);
            uint64_t ch = k ? g->heatmap_channels : g->frame_channels;
            FUZZ_CHECK(r.raw_size == (uint64_t)g->width * g->height * ch);
            FUZZ_CHECK(r.stored >= map && r.stored_size <= map_size - (size_t)(r.stored - map));
            uint8_t *dst = malloc((size_t)r.raw_size);
            FUZZ_CHECK(dst);
            int drc = vbp_record_decode(&r, dst, (size_t)r.raw_size, &err);
            FUZZ_CHECK(drc == VBP_OK || drc == VBP_E_CODEC);
            FUZZ_CHECK(drc != VBP_OK || r.codec != VBP_CODEC_RAW || !memcmp(dst, r.stored, r.stored_size));
            free(dst);
        }
    }
    vbp_record r;
    FUZZ_CHECK(vbp_pack_record(p, in->frame_count, VBP_REC_FRAME, &r) == VBP_E_ARG);
    /* vbdump's reports: text and JSON */
    static FILE *devnull;
    if (!devnull)
        FUZZ_CHECK((devnull = fopen("/dev/null", "w")) != NULL);
    for (int json = 0; json < 2; json++) {
        vbp_dump_info(devnull, p, 3, json);
        vbp_dump_clips(devnull, p, json);
        vbp_dump_frames(devnull, p, in->clip_count - 1, json);
    }
}

/* Every window of every split through the loader, as a trainer would read them. */
static void use_windows(vbp_pack *p)
{
    const vbp_pack_info *in = vbp_pack_get_info(p);
    for (uint32_t seq = 1; seq <= 3; seq += 2) {
        uint64_t windows = 0;
        for (uint64_t c = 0; c < in->clip_count; c++) {
            uint64_t n = vbp_pack_clip(p, c)->frame_count;
            windows += n >= seq ? n - seq + 1 : 0;
        }
        vbp_loader_opts o;
        vbp_loader_opts_default(&o);
        o.seq = seq;
        o.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL) |
                   VBP_SPLIT_BIT(VBP_SPLIT_TEST);
        o.order = VBP_ORDER_SEQUENTIAL;
        o.flip_prob = 0.5f;
        o.batch = 2;
        o.threads = 0;
        o.memory_limit = 1ull << 30; /* no /proc/meminfo read per input */
        vbp_loader *ld;
        vbp_error err;
        int rc = vbp_loader_open(p, &o, &ld, &err);
        if (rc) {
            FUZZ_CHECK(windows == 0 && rc == VBP_E_GEOMETRY);
            continue;
        }
        const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
        FUZZ_CHECK(sh->samples == windows && sh->seq == seq);
        vbp_batch b;
        uint64_t served = 0;
        while ((rc = vbp_loader_next(ld, &b, &err)) > 0) {
            for (size_t i = 0; i < b.n; i++) {
                const vbp_sample *s = &b.samples[i];
                const vbp_clip *clip = vbp_pack_clip(p, s->clip);
                FUZZ_CHECK(clip && s->clip_frame + seq <= clip->frame_count);
                FUZZ_CHECK(s->first_frame == clip->first_frame + s->clip_frame);
            }
            for (size_t k = 0; k < b.n * sh->x_floats; k++)
                FUZZ_CHECK(b.x[k] >= 0.0f && b.x[k] <= 1.0f);
            for (size_t k = 0; k < b.n * sh->y_floats; k++)
                FUZZ_CHECK(b.y[k] >= 0.0f && b.y[k] <= 1.0f);
            served += b.n;
        }
        /* an lz4 record that does not decode stops the epoch with an error, nothing else */
        FUZZ_CHECK(rc == 0 ? served == windows : rc == VBP_E_CODEC || rc == VBP_E_FORMAT);
        vbp_loader_close(ld);
    }
}

static void try_open(const uint8_t *data, size_t size)
{
    path = fuzz_put(data, size);
    vbp_pack *p = NULL;
    vbp_error err;
    memset(&err, 0, sizeof err);
    int rc = vbp_pack_open(path, &p, &err);
    if (rc != VBP_OK) {
        FUZZ_CHECK(p == NULL && rc < 0 && err.code == rc && strstr(err.detail, path));
        FUZZ_CHECK(fuzz_message_ok(err.detail)); /* clip names quoted escaped */
        return;
    }
    FUZZ_CHECK(p != NULL);
    use_pack(p);
    use_windows(p);
    vbp_pack_close(p);
}

/* Claim the buffer's size, recompute the index checksums (sections inside it) and the header's. */
static void resign(uint8_t *buf, size_t n)
{
    vbp_header h;
    vbp_header_decode(buf, &h);
    h.file_size = n;
    for (int s = 0; s < 2; s++)
        if (h.sec[s].offset <= n && h.sec[s].length <= n - h.sec[s].offset)
            h.sec[s].checksum = XXH3_64bits(buf + h.sec[s].offset, (size_t)h.sec[s].length);
    vbp_header_encode(&h, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_open(data, size);
    if (size >= VBP_HEADER_SIZE && !memcmp(data, VBP_MAGIC, VBP_MAGIC_SIZE)) {
        uint8_t *copy = malloc(size);
        FUZZ_CHECK(copy);
        memcpy(copy, data, size);
        resign(copy, size);
        try_open(copy, size);
        free(copy);
    }
    return 0;
}

/* test_pack.c - pack writer/reader round trips, determinism, refusal to clobber. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>
#include "pack_fixture.h"

static const char *in_dir(const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s", fx_dir, name);
    return p;
}

/* Files fx_dir/x and fx_dir/y hold the same bytes; both are removed. */
static void same_then_remove(const char *x, const char *y)
{
    size_t na, nb;
    uint8_t *a = fx_read_all(in_dir(x), &na), *b = fx_read_all(in_dir(y), &nb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    unlink(in_dir(x));
    unlink(in_dir(y));
}

static int progress_calls;
static void count_progress(void *ctx, uint64_t done, uint64_t total)
{
    assert_ptr_equal(ctx, &progress_calls);
    assert_int_equal(done, total);
    progress_calls++;
}

/* Read every record and label back and compare with the fixture's content. */
static void check_roundtrip(vbp_codec codec, uint32_t channels)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", in_dir("rt.vbp"));
    vbp_error err;
    assert_int_equal(fix_write(path, codec, channels, 1, &err), VBP_OK);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    const vbp_pack_info *info = vbp_pack_get_info(p);
    assert_int_equal(info->version_major, 1);
    assert_int_equal(info->geometry.width, FIX_W);
    assert_int_equal(info->geometry.height, FIX_H);
    assert_int_equal(info->geometry.frame_channels, channels);
    assert_int_equal(info->default_codec, codec);
    assert_int_equal(info->clip_count, FIX_CLIPS);
    assert_int_equal(info->frame_count, 12);
    assert_int_equal(info->frames_per_split[VBP_SPLIT_TRAIN], 5);
    assert_int_equal(info->frames_per_split[VBP_SPLIT_VAL], 3);
    assert_int_equal(info->clips_per_split[VBP_SPLIT_TEST], 1);
    size_t fsz = (size_t)channels * FIX_W * FIX_H, hsz = FIX_W * FIX_H;
    uint8_t *want = malloc(fsz), *got = malloc(fsz);
    uint64_t f = 0, lz4_records = 0;
    for (uint32_t c = 0; c < FIX_CLIPS; c++) {
        const vbp_clip *clip = vbp_pack_clip(p, c);
        assert_string_equal(clip->name, fix_clips[c].name);
        assert_string_equal(clip->group, fix_clips[c].group);
        assert_int_equal(clip->split, fix_clips[c].split);
        assert_int_equal(clip->first_frame, f);
        assert_int_equal(clip->frame_count, fix_clips[c].frames);
        for (uint32_t i = 0; i < fix_clips[c].frames; i++, f++) {
            vbp_record r;
            assert_int_equal(vbp_pack_clip_of_frame(p, f), c);
            assert_int_equal(vbp_pack_record(p, f, VBP_REC_FRAME, &r), VBP_OK);
            assert_int_equal(r.raw_size, fsz);
            if (r.codec == VBP_CODEC_RAW) {
                assert_int_equal(r.stored_size, fsz);
                assert_int_equal((uintptr_t)r.stored % 4096, 0); /* page-aligned in the map */
            } else {
                assert_true(r.stored_size < fsz);
                lz4_records++;
            }
            fix_frame(c, i, channels, want);
            assert_int_equal(vbp_record_decode(&r, got, fsz, &err), VBP_OK);
            assert_memory_equal(got, want, fsz);
            assert_int_equal(vbp_pack_record(p, f, VBP_REC_HEATMAP, &r), VBP_OK);
            fix_heatmap(c, i, want);
            assert_int_equal(vbp_record_decode(&r, got, hsz, &err), VBP_OK);
            assert_memory_equal(got, want, hsz);
            lz4_records += r.codec == VBP_CODEC_LZ4;
            vbp_label a = vbp_pack_label(p, f), b = fix_label(c, i);
            assert_int_equal(a.visibility, b.visibility);
            assert_true(a.x == b.x && a.y == b.y);
        }
    }
    vbp_record r;
    assert_int_equal(vbp_pack_record(p, f, VBP_REC_FRAME, &r), VBP_E_ARG);
    if (codec == VBP_CODEC_RAW)
        assert_int_equal(lz4_records, 0);
    else /* frame 0 of each clip is noise and stays raw; the rest compress */
        assert_int_equal(lz4_records, 2 * 12 - FIX_CLIPS);
    progress_calls = 0;
    assert_int_equal(vbp_pack_verify(p, count_progress, &progress_calls, &err), VBP_OK);
    assert_int_equal(progress_calls, 1); /* 12 frames: only the final call */
    vbp_pack_close(p);
    free(want);
    free(got);
    unlink(path);
}

static void roundtrip_raw_gray(void **s) { (void)s; check_roundtrip(VBP_CODEC_RAW, 1); }
static void roundtrip_raw_rgb(void **s) { (void)s; check_roundtrip(VBP_CODEC_RAW, 3); }
static void roundtrip_lz4_gray(void **s) { (void)s; check_roundtrip(VBP_CODEC_LZ4, 1); }
static void roundtrip_lz4_rgb(void **s) { (void)s; check_roundtrip(VBP_CODEC_LZ4, 3); }

static void lookups(void **s)
{
    (void)s;
    vbp_error err;
    vbp_pack *p;
    assert_int_equal(fix_write(in_dir("l.vbp"), VBP_CODEC_RAW, 1, 0, &err), VBP_OK);
    assert_int_equal(vbp_pack_open(in_dir("l.vbp"), &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_find_clip(p, "rally2"), 1);
    assert_int_equal(vbp_pack_find_clip(p, "matchA/rally2"), 1);
    assert_int_equal(vbp_pack_find_clip(p, "matchB/rally2"), -1);
    assert_int_equal(vbp_pack_find_clip(p, "serve"), 2);
    assert_int_equal(vbp_pack_find_clip(p, "nope"), -1);
    assert_null(vbp_pack_clip(p, 3));
    assert_string_equal(vbp_pack_path(p), in_dir("l.vbp"));
    size_t n;
    const uint8_t *m = vbp_pack_map(p, &n);
    assert_int_equal(n, vbp_pack_get_info(p)->file_size);
    assert_memory_equal(m, "\x89VBPACK\n", 8);
    assert_true(vbp_pack_fd(p) >= 0);
    vbp_label l = vbp_pack_label(p, 1); /* clip 0 frame 1: hidden */
    assert_int_equal(l.visibility, 0);
    vbp_pack_close(p);
    unlink(in_dir("l.vbp"));
}

static void deterministic(void **s)
{
    (void)s;
    vbp_error err;
    for (int codec = 0; codec < 2; codec++) {
        assert_int_equal(fix_write(in_dir("a.vbp"), (vbp_codec)codec, 3, 0, &err), VBP_OK);
        assert_int_equal(fix_write(in_dir("b.vbp"), (vbp_codec)codec, 3, 0, &err), VBP_OK);
        same_then_remove("a.vbp", "b.vbp");
    }
}

static void refuses_existing_target(void **s)
{
    (void)s;
    vbp_error err;
    const char *path = in_dir("x.vbp");
    assert_int_equal(fx_write_file(path, "keep", 4), 0);
    assert_int_equal(fix_write(path, VBP_CODEC_RAW, 1, 0, &err), VBP_E_EXISTS);
    assert_non_null(strstr(err.detail, "x.vbp"));
    size_t n;
    uint8_t *b = fx_read_all(path, &n);
    assert_int_equal(n, 4);
    free(b);
    assert_int_equal(fx_entries(fx_dir), 1);
    /* The target appears while the writer runs: finish must still refuse. */
    unlink(path);
    vbp_writer_opts o = {{FIX_H, FIX_W, 1, 1}, VBP_CODEC_RAW, 0};
    vbp_writer *w;
    uint8_t px[FIX_W * FIX_H] = {0};
    assert_int_equal(vbp_writer_open(path, &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "c", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(fx_write_file(path, "late", 4), 0);
    assert_int_equal(vbp_writer_finish(w, &err), VBP_E_EXISTS);
    assert_int_equal(fx_entries(fx_dir), 1); /* temp file gone, "late" untouched */
    b = fx_read_all(path, &n);
    assert_memory_equal(b, "late", 4);
    free(b);
    /* overwrite replaces it */
    assert_int_equal(fix_write(path, VBP_CODEC_RAW, 1, 1, &err), VBP_OK);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    vbp_pack_close(p);
    unlink(path);
}

static void abort_leaves_nothing(void **s)
{
    (void)s;
    vbp_error err;
    vbp_writer_opts o = {{FIX_H, FIX_W, 1, 1}, VBP_CODEC_LZ4, 0};
    vbp_writer *w;
    uint8_t px[FIX_W * FIX_H] = {0};
    assert_int_equal(vbp_writer_open(in_dir("y.vbp"), &o, &w, &err), VBP_OK);
    assert_int_equal(fx_entries(fx_dir), 1); /* the temporary file */
    assert_int_equal(vbp_writer_begin_clip(w, "c", "g", VBP_SPLIT_VAL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_OK);
    vbp_writer_abort(w);
    assert_int_equal(fx_entries(fx_dir), 0);
    assert_int_not_equal(access(in_dir("y.vbp"), F_OK), 0);
}

static void writer_rejects_misuse(void **s)
{
    (void)s;
    vbp_error err;
    vbp_writer *w;
    uint8_t px[FIX_W * FIX_H] = {0};
    vbp_writer_opts bad = {{0, FIX_W, 1, 1}, VBP_CODEC_RAW, 0};
    assert_int_equal(vbp_writer_open(in_dir("z.vbp"), &bad, &w, &err), VBP_E_ARG);
    bad.geometry = (vbp_geometry){FIX_H, FIX_W, 2, 1};
    assert_int_equal(vbp_writer_open(in_dir("z.vbp"), &bad, &w, &err), VBP_E_ARG);
    vbp_writer_opts o = {{FIX_H, FIX_W, 1, 1}, VBP_CODEC_RAW, 0};
    assert_int_equal(vbp_writer_open(in_dir("z.vbp"), &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_E_ARG); /* outside a clip */
    char longname[80];
    memset(longname, 'n', sizeof longname - 1);
    longname[79] = 0;
    assert_int_equal(vbp_writer_begin_clip(w, longname, "", VBP_SPLIT_TRAIN, &err), VBP_E_ARG);
    /* "g/c" must name one clip only: no '/' inside a name or a group */
    assert_int_equal(vbp_writer_begin_clip(w, "rall/", "matchA", VBP_SPLIT_TRAIN, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "'/' in a clip or group name"));
    assert_int_equal(vbp_writer_begin_clip(w, "c", "a/b", VBP_SPLIT_TRAIN, &err), VBP_E_ARG);
    assert_int_equal(vbp_writer_begin_clip(w, "c", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_E_INPUT); /* no frames */
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_E_ARG); /* after heatmaps */
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_E_INPUT);          /* 2 frames, 1 heatmap */
    assert_non_null(strstr(err.detail, "2 frames but 1 heatmaps"));
    assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_E_INPUT);   /* one too many */
    assert_int_equal(vbp_writer_finish(w, &err), VBP_E_ARG);              /* clip not ended */
    assert_int_equal(fx_entries(fx_dir), 0);
}

/* vbp_record_encode: lz4 only when smaller, raw without a copy, checksum of the stored bytes. */
static void record_encode_contract(void **s)
{
    (void)s;
    enum { N = 4096 };
    uint8_t noise[N], flat[N], back[N];
    uint64_t x = 88172645463325252ull; /* xorshift64: incompressible bytes */
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[i] = (uint8_t)(x >> 32);
        flat[i] = (uint8_t)(i / 512);
    }
    size_t bound = vbp_record_encode_bound(N);
    assert_true(bound > N);
    assert_int_equal(vbp_record_encode_bound(0), 0);
    uint8_t *scratch = malloc(bound);
    vbp_record r;
    vbp_error err;
    assert_int_equal(vbp_record_encode(VBP_CODEC_LZ4, flat, N, scratch, bound, &r, &err), VBP_OK);
    assert_int_equal(r.codec, VBP_CODEC_LZ4);
    assert_ptr_equal(r.stored, scratch);
    assert_true(r.stored_size >= 1 && r.stored_size < N);
    assert_int_equal(r.raw_size, N);
    assert_int_equal(r.checksum, XXH3_64bits(scratch, (size_t)r.stored_size));
    assert_int_equal(vbp_record_decode(&r, back, N, &err), VBP_OK);
    assert_memory_equal(back, flat, N);
    /* Incompressible: stays raw, points at the source. */
    assert_int_equal(vbp_record_encode(VBP_CODEC_LZ4, noise, N, scratch, bound, &r, &err), VBP_OK);
    assert_int_equal(r.codec, VBP_CODEC_RAW);
    assert_ptr_equal(r.stored, noise);
    assert_int_equal(r.stored_size, N);
    assert_int_equal(r.checksum, XXH3_64bits(noise, N));
    /* Raw codec: never compressed, needs no scratch. */
    assert_int_equal(vbp_record_encode(VBP_CODEC_RAW, flat, N, NULL, 0, &r, &err), VBP_OK);
    assert_int_equal(r.codec, VBP_CODEC_RAW);
    assert_ptr_equal(r.stored, flat);
    assert_int_equal(r.checksum, XXH3_64bits(flat, N));
    /* lz4 with a scratch smaller than the bound, or without one. */
    assert_int_equal(vbp_record_encode(VBP_CODEC_LZ4, flat, N, scratch, bound - 1, &r, &err),
                     VBP_E_ARG);
    assert_int_equal(vbp_record_encode(VBP_CODEC_LZ4, flat, N, NULL, 0, &r, &err), VBP_E_ARG);
    assert_int_equal(vbp_record_encode((vbp_codec)7, flat, N, scratch, bound, &r, &err), VBP_E_ARG);
    free(scratch);
}

/*
 * The fixture pack written with records encoded ahead of time (all frames of
 * a clip encoded before the first is added, as decoding threads would) is
 * byte-identical to the one add_frame/add_heatmap write.
 */
static void encoded_records_give_same_bytes(void **s)
{
    (void)s;
    vbp_error err;
    for (int codec = 0; codec < 2; codec++) {
        const uint32_t ch = 3;
        const size_t fsz = ch * FIX_W * FIX_H, hsz = FIX_W * FIX_H;
        size_t bound = vbp_record_encode_bound(fsz);
        assert_int_equal(fix_write(in_dir("a.vbp"), (vbp_codec)codec, ch, 0, &err), VBP_OK);
        vbp_writer_opts o = {{FIX_H, FIX_W, ch, 1}, (vbp_codec)codec, 0};
        vbp_writer *w;
        assert_int_equal(vbp_writer_open(in_dir("b.vbp"), &o, &w, &err), VBP_OK);
        for (uint32_t c = 0; c < FIX_CLIPS; c++) {
            uint32_t n = fix_clips[c].frames;
            uint8_t *px = malloc(n * fsz), *scratch = malloc(n * bound);
            vbp_record *rec = calloc(n, sizeof *rec);
            assert_int_equal(vbp_writer_begin_clip(w, fix_clips[c].name, fix_clips[c].group,
                                                   fix_clips[c].split, &err), VBP_OK);
            for (uint32_t i = 0; i < n; i++) {
                fix_frame(c, i, ch, px + i * fsz);
                assert_int_equal(vbp_record_encode((vbp_codec)codec, px + i * fsz, fsz,
                                                   scratch + i * bound, bound, &rec[i], &err), VBP_OK);
            }
            for (uint32_t i = 0; i < n; i++) {
                vbp_label l = fix_label(c, i);
                assert_int_equal(vbp_writer_add_frame_encoded(
                                     w, &rec[i], l.visibility == VBP_NO_LABEL ? NULL : &l, &err),
                                 VBP_OK);
            }
            for (uint32_t i = 0; i < n; i++) {
                fix_heatmap(c, i, px + i * hsz);
                assert_int_equal(vbp_record_encode((vbp_codec)codec, px + i * hsz, hsz,
                                                   scratch + i * bound, bound, &rec[i], &err), VBP_OK);
            }
            for (uint32_t i = 0; i < n; i++)
                assert_int_equal(vbp_writer_add_heatmap_encoded(w, &rec[i], &err), VBP_OK);
            assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
            free(px);
            free(scratch);
            free(rec);
        }
        assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
        same_then_remove("a.vbp", "b.vbp");
    }
}

/* An encoded record that contradicts the writer's geometry or codec is refused; the writer goes on. */
static void writer_rejects_bad_encoded(void **s)
{
    (void)s;
    vbp_error err;
    vbp_writer *w;
    enum { HSZ = FIX_W * FIX_H };
    uint8_t px[HSZ] = {0}, scratch[HSZ + 1024];
    vbp_record flat, raw;
    assert_int_equal(vbp_record_encode(VBP_CODEC_LZ4, px, HSZ, scratch, sizeof scratch, &flat, &err),
                     VBP_OK);
    assert_int_equal(flat.codec, VBP_CODEC_LZ4);
    assert_int_equal(vbp_record_encode(VBP_CODEC_RAW, px, HSZ, NULL, 0, &raw, &err), VBP_OK);
    vbp_writer_opts o = {{FIX_H, FIX_W, 1, 1}, VBP_CODEC_RAW, 0};
    assert_int_equal(vbp_writer_open(in_dir("e.vbp"), &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "c", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    /* lz4 in a raw pack */
    assert_int_equal(vbp_writer_add_frame_encoded(w, &flat, NULL, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "e.vbp"));
    /* raw size that is not the geometry's */
    vbp_record bad = raw;
    bad.raw_size = bad.stored_size = HSZ - 1;
    assert_int_equal(vbp_writer_add_frame_encoded(w, &bad, NULL, &err), VBP_E_ARG);
    /* raw record whose stored size is not its raw size */
    bad = raw;
    bad.stored_size = HSZ / 2;
    assert_int_equal(vbp_writer_add_frame_encoded(w, &bad, NULL, &err), VBP_E_ARG);
    assert_int_equal(vbp_writer_add_frame_encoded(w, NULL, NULL, &err), VBP_E_ARG);
    /* nothing was written: the valid record still goes in and the pack finishes */
    assert_int_equal(vbp_writer_add_frame_encoded(w, &raw, NULL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap_encoded(w, &raw, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(in_dir("e.vbp"), &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_get_info(p)->frame_count, 1);
    assert_int_equal(vbp_pack_verify(p, NULL, NULL, &err), VBP_OK);
    vbp_pack_close(p);
    unlink(in_dir("e.vbp"));
    /* In an lz4 pack: an "lz4" record no smaller than raw is refused. */
    o.codec = VBP_CODEC_LZ4;
    assert_int_equal(vbp_writer_open(in_dir("f.vbp"), &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "c", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    bad = flat;
    bad.stored_size = HSZ;
    assert_int_equal(vbp_writer_add_frame_encoded(w, &bad, NULL, &err), VBP_E_ARG);
    assert_int_equal(vbp_writer_add_frame_encoded(w, &flat, NULL, &err), VBP_OK);
    vbp_writer_abort(w);
    assert_int_equal(fx_entries(fx_dir), 0);
}

/*
 * Whole zero pages of raw records are left as holes (pack_write.c): a 512x288 pack whose
 * heatmaps are empty but for one small blob takes fewer disk blocks than its size, and reads
 * back (mapping, checksums) the bytes it was given.  Random frames keep every page.
 */
static void zero_pages_are_holes(void **s)
{
    (void)s;
    enum { W = 512, H = 288, N = 4 };
    const char *path = in_dir("sparse.vbp");
    vbp_writer_opts o = {{H, W, 1, 1}, VBP_CODEC_RAW, 1};
    vbp_writer *w;
    vbp_error err;
    uint8_t *frame = malloc(W * H), *heat = calloc(W * H, 1);
    uint64_t seed = 7;
    assert_int_equal(vbp_writer_open(path, &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "c", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    for (int f = 0; f < N; f++) {
        for (size_t i = 0; i < (size_t)W * H; i++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            frame[i] = (uint8_t)(seed >> 24) | 1; /* never a zero page */
        }
        assert_int_equal(vbp_writer_add_frame(w, frame, NULL, &err), VBP_OK);
    }
    for (int f = 0; f < N; f++) {
        memset(heat, 0, W * H);
        if (f % 2 == 0) /* a blob on rows 100..109 (file pages 12 and 13 of the record) */
            for (int y = 100; y < 110; y++)
                memset(heat + (size_t)y * W + 200 + f, 255, 9);
        assert_int_equal(vbp_writer_add_heatmap(w, heat, &err), VBP_OK);
    }
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    /* the heatmaps' 4 x 36 pages, all but 2 x 2 of them zero, are not allocated */
    uint64_t heat_pages = (uint64_t)N * W * H / 4096, zero_pages = heat_pages - 4;
    uint64_t allocated = (uint64_t)st.st_blocks * 512;
    if (allocated + zero_pages * 4096 / 2 > (uint64_t)st.st_size)
        fail_msg("%llu bytes allocated for a %llu-byte pack with %llu zero pages: no holes",
                 (unsigned long long)allocated, (unsigned long long)st.st_size,
                 (unsigned long long)zero_pages);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_verify(p, NULL, NULL, &err), VBP_OK);
    for (int f = 0; f < N; f++) {
        vbp_record r;
        assert_int_equal(vbp_pack_record(p, (uint64_t)f, VBP_REC_HEATMAP, &r), VBP_OK);
        memset(heat, 0, W * H);
        if (f % 2 == 0)
            for (int y = 100; y < 110; y++)
                memset(heat + (size_t)y * W + 200 + f, 255, 9);
        assert_memory_equal(r.stored, heat, W * H);
    }
    vbp_pack_close(p);
    unlink(path);
    free(frame);
    free(heat);
}

static void splits_and_codecs_have_names(void **s)
{
    (void)s;
    vbp_split sp;
    assert_int_equal(vbp_split_parse("val", &sp), VBP_OK);
    assert_int_equal(sp, VBP_SPLIT_VAL);
    assert_int_equal(vbp_split_parse("dev", &sp), VBP_E_ARG);
    assert_string_equal(vbp_split_name(VBP_SPLIT_TEST), "test");
    assert_string_equal(vbp_codec_name(VBP_CODEC_LZ4), "lz4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_raw_gray),
        cmocka_unit_test(roundtrip_raw_rgb),
        cmocka_unit_test(roundtrip_lz4_gray),
        cmocka_unit_test(roundtrip_lz4_rgb),
        cmocka_unit_test(lookups),
        cmocka_unit_test(deterministic),
        cmocka_unit_test(refuses_existing_target),
        cmocka_unit_test(abort_leaves_nothing),
        cmocka_unit_test(writer_rejects_misuse),
        cmocka_unit_test(record_encode_contract),
        cmocka_unit_test(encoded_records_give_same_bytes),
        cmocka_unit_test(writer_rejects_bad_encoded),
        cmocka_unit_test(zero_pages_are_holes),
        cmocka_unit_test(splits_and_codecs_have_names),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

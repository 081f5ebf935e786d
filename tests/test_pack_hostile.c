/*
 * test_pack_hostile.c - damaged and hostile packs: every one must be refused
 * with the right code (or, for damaged records, reported by verify), never
 * crash.  Hostile headers and index entries are re-signed so that the check
 * under test is the one that fires, not a checksum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <lz4.h>
#include <xxhash.h>
#include "pack_fixture.h"
#include "internal.h"
#include "pack_format.h"

static char *dir;
static char path[4096];
static uint8_t *good;      /* the intact raw fixture pack */
static size_t good_size;
static uint8_t *good_lz4;
static size_t good_lz4_size;

static int setup(void **state)
{
    (void)state;
    vbp_error err;
    if (!(dir = fix_tmpdir()))
        return -1;
    snprintf(path, sizeof path, "%s/h.vbp", dir);
    if (fix_write(path, VBP_CODEC_LZ4, 1, 1, &err) || !(good_lz4 = fix_slurp(path, &good_lz4_size)))
        return -1;
    if (fix_write(path, VBP_CODEC_RAW, 1, 1, &err) || !(good = fix_slurp(path, &good_size)))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(good);
    free(good_lz4);
    fix_rmdir(dir);
    return 0;
}

/* Write buf as the pack and open it; returns the code, err filled. */
static int open_bytes(const uint8_t *buf, size_t n, vbp_error *err)
{
    assert_int_equal(fix_spit(path, buf, n), 0);
    vbp_pack *p = NULL;
    int rc = vbp_pack_open(path, &p, err);
    assert_true((rc == VBP_OK) == (p != NULL));
    vbp_pack_close(p);
    return rc;
}

/* Recompute both index checksums (where the sections are in bounds) and the header's. */
static void resign(uint8_t *buf, size_t n)
{
    vbp_header h;
    vbp_header_decode(buf, &h);
    for (int s = 0; s < 2; s++)
        if (h.sec[s].offset <= n && h.sec[s].length <= n - h.sec[s].offset)
            h.sec[s].checksum = XXH3_64bits(buf + h.sec[s].offset, (size_t)h.sec[s].length);
    vbp_header_encode(&h, buf);
}

static uint8_t *copy_of(const uint8_t *src, size_t n)
{
    uint8_t *b = malloc(n);
    memcpy(b, src, n);
    return b;
}

static void expect(const uint8_t *buf, size_t n, int code, const char *detail_part)
{
    vbp_error err;
    vbp_error_clear(&err);
    int rc = open_bytes(buf, n, &err);
    if (rc != code || (detail_part && !strstr(err.detail, detail_part)))
        fail_msg("expected %s containing '%s', got %d: %s", vbp_strerror(code),
                 detail_part ? detail_part : "", rc, err.detail);
    if (rc)
        assert_non_null(strstr(err.detail, path)); /* every detail names the pack */
}

static void intact_pack_opens(void **s)
{
    (void)s;
    expect(good, good_size, VBP_OK, NULL);
    expect(good_lz4, good_lz4_size, VBP_OK, NULL);
}

static void truncated_at_every_length(void **s)
{
    (void)s;
    for (size_t n = 0; n < good_size; n += n < 600 ? 1 : 61)
        expect(good, n, VBP_E_TRUNCATED, NULL);
    expect(good, good_size - 1, VBP_E_TRUNCATED, "header says");
    for (size_t n = 0; n < good_lz4_size; n += 7)
        expect(good_lz4, n, VBP_E_TRUNCATED, NULL);
}

static void flipped_header_bytes(void **s)
{
    (void)s;
    uint8_t *b = copy_of(good, good_size);
    for (size_t i = 0; i < VBP_HEADER_SIZE; i++) {
        b[i] ^= 0x42;
        int want = i < 8 ? VBP_E_FORMAT : i < 10 ? VBP_E_VERSION : VBP_E_CHECKSUM;
        expect(b, good_size, want, NULL);
        b[i] ^= 0x42;
    }
    b[8] ^= 0x01; /* major 1 -> 0 */
    expect(b, good_size, VBP_E_FORMAT, "version 0.0");
    free(b);
}

static void flipped_index_bytes(void **s)
{
    (void)s;
    vbp_header h;
    vbp_header_decode(good, &h);
    uint8_t *b = copy_of(good, good_size);
    const char *what[2] = {"clip table checksum", "frame index checksum"};
    for (int sec = 0; sec < 2; sec++)
        for (uint64_t i = 0; i < h.sec[sec].length; i += 5) {
            b[h.sec[sec].offset + i] ^= 0x10;
            expect(b, good_size, VBP_E_CHECKSUM, what[sec]);
            b[h.sec[sec].offset + i] ^= 0x10;
        }
    free(b);
}

/* Flip a byte inside one record: open succeeds, verify names that record. */
static void flipped_data_bytes(void **s)
{
    (void)s;
    const uint8_t *packs[2] = {good, good_lz4};
    const size_t sizes[2] = {good_size, good_lz4_size};
    for (int k = 0; k < 2; k++) {
        vbp_error err;
        vbp_pack *p;
        assert_int_equal(fix_spit(path, packs[k], sizes[k]), 0);
        assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
        vbp_record r;
        assert_int_equal(vbp_pack_record(p, 6, VBP_REC_HEATMAP, &r), VBP_OK); /* rally2 frame 1 */
        size_t at = (size_t)(r.stored - vbp_pack_map(p, NULL)) + (size_t)r.stored_size / 2;
        vbp_pack_close(p);
        uint8_t *b = copy_of(packs[k], sizes[k]);
        b[at] ^= 0x01;
        assert_int_equal(open_bytes(b, sizes[k], &err), VBP_OK);
        assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
        assert_int_equal(vbp_pack_verify(p, NULL, NULL, &err), VBP_E_CHECKSUM);
        assert_non_null(strstr(err.detail, "clip 'matchA/rally2' frame 1 heatmap: checksum mismatch"));
        vbp_pack_close(p);
        free(b);
    }
}

typedef void (*header_edit)(vbp_header *h);
static void hostile(header_edit edit, int code, const char *detail_part)
{
    uint8_t *b = copy_of(good, good_size);
    vbp_header h;
    vbp_header_decode(b, &h);
    edit(&h);
    vbp_header_encode(&h, b);
    expect(b, good_size, code, detail_part);
    free(b);
}

static void e_clips_past_eof(vbp_header *h) { h->sec[VBP_SEC_CLIPS].offset = h->file_size + 8; }
static void e_index_huge(vbp_header *h) { h->sec[VBP_SEC_FRAMES].length = UINT64_MAX; }
static void e_data_wraps(vbp_header *h)
{
    h->sec[VBP_SEC_DATA].offset = 1ull << 63;
    h->sec[VBP_SEC_DATA].length = 1ull << 63;
}
static void e_overlap(vbp_header *h) { h->sec[VBP_SEC_DATA].length += 8; }
static void e_overlap_index(vbp_header *h) { h->sec[VBP_SEC_CLIPS].offset = h->sec[VBP_SEC_FRAMES].offset; }
static void e_in_header(vbp_header *h) { h->sec[VBP_SEC_DATA].offset = 100; }
static void e_dims_overflow(vbp_header *h) { h->geometry.height = h->geometry.width = UINT32_MAX; }
static void e_dims_zero(vbp_header *h) { h->geometry.width = 0; }
static void e_dims_big(vbp_header *h) { h->geometry.height = VBP_MAX_DIM + 1; }
static void e_channels(vbp_header *h) { h->geometry.frame_channels = 4; }
static void e_heat_channels(vbp_header *h) { h->geometry.heatmap_channels = 3; }
static void e_clip_count(vbp_header *h) { h->clip_count = 4; }
static void e_frame_count(vbp_header *h) { h->frame_count = 13; }
static void e_frame_count_huge(vbp_header *h) { h->frame_count = 1ull << 40; }
static void e_no_clips(vbp_header *h) { h->clip_count = 0; }
static void e_codec(vbp_header *h) { h->codec = 7; }
static void e_major(vbp_header *h) { h->major = 2; h->minor = 3; }
static void e_minor(vbp_header *h) { h->minor = 9; }
static void e_size_more(vbp_header *h) { h->file_size += 4096; }
static void e_size_less(vbp_header *h) { h->file_size -= 1; }
static void e_entry_size(vbp_header *h) { h->frame_entry_size = 128; }

static void hostile_headers(void **s)
{
    (void)s;
    hostile(e_clips_past_eof, VBP_E_FORMAT, "clip table (offset");
    hostile(e_index_huge, VBP_E_FORMAT, "frame index (offset");
    hostile(e_data_wraps, VBP_E_FORMAT, "data section (offset");
    hostile(e_overlap, VBP_E_FORMAT, "overlaps");
    hostile(e_overlap_index, VBP_E_FORMAT, "overlaps");
    hostile(e_in_header, VBP_E_FORMAT, "not inside the file");
    hostile(e_dims_overflow, VBP_E_FORMAT, "geometry");
    hostile(e_dims_zero, VBP_E_FORMAT, "geometry 0x48");
    hostile(e_dims_big, VBP_E_FORMAT, "geometry");
    hostile(e_channels, VBP_E_FORMAT, "4 frame");
    hostile(e_heat_channels, VBP_E_FORMAT, "3 heatmap");
    hostile(e_clip_count, VBP_E_FORMAT, "clip table is 456 bytes, its count needs 608");
    hostile(e_frame_count, VBP_E_FORMAT, "frame index is");
    hostile(e_frame_count_huge, VBP_E_FORMAT, "frames (need");
    hostile(e_no_clips, VBP_E_FORMAT, "0 clips");
    hostile(e_codec, VBP_E_FORMAT, "default codec 7");
    hostile(e_major, VBP_E_VERSION, "version 2.3 is newer than this reader's 1.0");
    hostile(e_minor, VBP_OK, NULL); /* a newer minor version is readable */
    hostile(e_size_more, VBP_E_TRUNCATED, "header says");
    hostile(e_size_less, VBP_E_FORMAT, "trailing");
    hostile(e_entry_size, VBP_E_FORMAT, "expected");
}

/* A newer major version is reported even when nothing else can be trusted. */
static void newer_major_unsigned(void **s)
{
    (void)s;
    uint8_t *b = copy_of(good, good_size);
    b[8] = 3;
    expect(b, good_size, VBP_E_VERSION, "3.0");
    free(b);
}

/* Edit clip table entry c or frame index entry f in place, re-sign, expect. */
static uint8_t *index_copy(const uint8_t *src, size_t n, int sec, uint64_t i, uint8_t **entry)
{
    uint8_t *b = copy_of(src, n);
    vbp_header h;
    vbp_header_decode(b, &h);
    *entry = b + h.sec[sec].offset + i * (sec == VBP_SEC_CLIPS ? VBP_CLIP_ENTRY_SIZE : VBP_FRAME_ENTRY_SIZE);
    return b;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void hostile_clip_table(void **s)
{
    (void)s;
    uint8_t *e, *b;
    b = index_copy(good, good_size, VBP_SEC_CLIPS, 1, &e);
    memset(e, 'a', 64);
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clip table entry 1: name not NUL-terminated");
    memset(e, 0, 64);
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clip table entry 1: empty name");
    free(b);
    b = index_copy(good, good_size, VBP_SEC_CLIPS, 2, &e);
    memset(e + 64, 'g', 64);
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clip table entry 2: group not NUL-terminated");
    free(b);
    b = index_copy(good, good_size, VBP_SEC_CLIPS, 0, &e);
    e[128] = 3;
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clip 'matchA/rally1': invalid split 3");
    free(b);
    b = index_copy(good, good_size, VBP_SEC_CLIPS, 1, &e);
    put64(e + 136, 6); /* gap after rally1's 5 frames */
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clip 'matchA/rally2': frames 6+3");
    put64(e + 136, 5);
    put64(e + 144, UINT64_MAX); /* would wrap next + count */
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clip 'matchA/rally2'");
    put64(e + 144, 2); /* clips then cover 11 of 12 */
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "do not continue");
    free(b);
    b = index_copy(good, good_size, VBP_SEC_CLIPS, 2, &e);
    put64(e + 144, 3);
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "clips cover 11 of 12 frames");
    free(b);
}

typedef struct frame_case {
    int heatmap;
    size_t field;   /* offset within the 40-byte record descriptor */
    uint64_t value;
    const char *detail;
} frame_case;

static void hostile_frame_index(void **s)
{
    (void)s;
    vbp_header h;
    vbp_header_decode(good, &h);
    const frame_case cases[] = {
        {0, 32, 9, "frame index entry 4: frame unknown codec"},
        {1, 32, 2, "frame index entry 4: heatmap unknown codec"},
        {0, 0, (h.file_size + 4096) & ~4095ull, "frame index entry 4: frame offset outside the data section"},
        {1, 0, UINT64_MAX - 4095, "heatmap offset outside the data section"},
        {0, 0, (h.sec[VBP_SEC_DATA].offset + h.sec[VBP_SEC_DATA].length + 4095) & ~4095ull, "frame offset outside the data section"},
        {0, 0, 4096 + 8, "frame raw record not 4096-aligned"},
        {0, 16, 64 * 48 + 1, "frame raw size does not match"},
        {1, 16, 0, "heatmap raw size does not match"},
        {0, 8, 64 * 48 - 1, "stored size is not its raw size"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *e, *b = index_copy(good, good_size, VBP_SEC_FRAMES, 4, &e);
        put64(e + 40 * cases[i].heatmap + cases[i].field, cases[i].value);
        resign(b, good_size);
        expect(b, good_size, VBP_E_FORMAT, cases[i].detail);
        free(b);
    }
    uint8_t *e, *b = index_copy(good, good_size, VBP_SEC_FRAMES, 11, &e);
    e[80] = 7;
    resign(b, good_size);
    expect(b, good_size, VBP_E_FORMAT, "frame index entry 11: visibility 7");
    free(b);
    /* lz4 records: size bound and alignment */
    b = index_copy(good_lz4, good_lz4_size, VBP_SEC_FRAMES, 1, &e);
    assert_int_equal(e[40 + 32], VBP_CODEC_LZ4);
    put64(e + 40 + 8, (uint64_t)LZ4_compressBound(64 * 48) + 1);
    resign(b, good_lz4_size);
    expect(b, good_lz4_size, VBP_E_FORMAT, "lz4 stored size outside");
    put64(e + 40 + 8, 0);
    resign(b, good_lz4_size);
    expect(b, good_lz4_size, VBP_E_FORMAT, "lz4 stored size outside");
    free(b);
}

/* An lz4 record whose bytes are garbage but correctly checksummed: verify and decode fail cleanly. */
static void lz4_garbage_does_not_decode(void **s)
{
    (void)s;
    vbp_error err;
    vbp_pack *p;
    assert_int_equal(fix_spit(path, good_lz4, good_lz4_size), 0);
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    vbp_record r;
    assert_int_equal(vbp_pack_record(p, 2, VBP_REC_FRAME, &r), VBP_OK);
    assert_int_equal(r.codec, VBP_CODEC_LZ4);
    size_t at = (size_t)(r.stored - vbp_pack_map(p, NULL)), n = (size_t)r.stored_size;
    vbp_pack_close(p);
    uint8_t *e, *b = index_copy(good_lz4, good_lz4_size, VBP_SEC_FRAMES, 2, &e);
    memset(b + at, 0xF0, n); /* literal-length runs that overrun the input */
    put64(e + 24, XXH3_64bits(b + at, n));
    resign(b, good_lz4_size);
    assert_int_equal(fix_spit(path, b, good_lz4_size), 0);
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_verify(p, NULL, NULL, &err), VBP_E_CODEC); /* verify decodes it */
    char want[128];
    snprintf(want, sizeof want, "offset %zu: clip 'matchA/rally1' frame 2 frame: lz4 block of %zu bytes", at, n);
    assert_non_null(strstr(err.detail, want));
    assert_int_equal(vbp_pack_record(p, 2, VBP_REC_FRAME, &r), VBP_OK);
    uint8_t out[64 * 48];
    assert_int_equal(vbp_record_decode(&r, out, sizeof out, &err), VBP_E_CODEC);
    assert_int_equal(vbp_record_decode(&r, out, sizeof out - 1, &err), VBP_E_ARG);
    vbp_pack_close(p);
    free(b);
}

/* Random byte damage anywhere: open fails or everything it accepts decodes without a crash. */
static void random_damage_never_crashes(void **s)
{
    (void)s;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t out[64 * 48];
    for (int iter = 0; iter < 300; iter++) {
        const uint8_t *src = iter & 1 ? good_lz4 : good;
        size_t n = iter & 1 ? good_lz4_size : good_size;
        uint8_t *b = copy_of(src, n);
        for (int k = 0; k < 1 + iter % 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[x % n] ^= (uint8_t)(x >> 32) | 1;
        }
        if (iter % 3 == 0)
            resign(b, n);
        vbp_error err;
        vbp_pack *p;
        assert_int_equal(fix_spit(path, b, n), 0);
        if (vbp_pack_open(path, &p, &err) == VBP_OK) {
            vbp_pack_verify(p, NULL, NULL, &err);
            for (uint64_t f = 0; f < vbp_pack_get_info(p)->frame_count; f++)
                for (int kind = 0; kind < 2; kind++) {
                    vbp_record r;
                    assert_int_equal(vbp_pack_record(p, f, (vbp_record_kind)kind, &r), VBP_OK);
                    vbp_record_decode(&r, out, sizeof out, &err);
                }
            vbp_pack_close(p);
        } else {
            assert_true(err.code < 0 && err.detail[0]);
        }
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intact_pack_opens),
        cmocka_unit_test(truncated_at_every_length),
        cmocka_unit_test(flipped_header_bytes),
        cmocka_unit_test(flipped_index_bytes),
        cmocka_unit_test(flipped_data_bytes),
        cmocka_unit_test(hostile_headers),
        cmocka_unit_test(newer_major_unsigned),
        cmocka_unit_test(hostile_clip_table),
        cmocka_unit_test(hostile_frame_index),
        cmocka_unit_test(lz4_garbage_does_not_decode),
        cmocka_unit_test(random_damage_never_crashes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

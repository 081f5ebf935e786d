/*
 * test_pack_verify.c - verify is byte for byte: no pack that differs from
 * what a writer following formats/vbpack.md produces passes open + verify.
 *
 * Random mutations (fixed seed) of the fixture pack in gray and RGB, raw
 * and lz4: byte flips in the first 8 KiB, truncations, 8-byte header field
 * stomps, one flipped byte anywhere.  Then one targeted, re-signed edit per
 * rule of "Verification" (so the rule, not a checksum, must catch it), and
 * the writer's side of the rules (unique names, the label convention).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <lz4.h>
#include <lz4hc.h>
#include <xxhash.h>
#include "pack_fixture.h"
#include "pack_format.h"

static char *dir;
static char path[4096];
typedef struct pack_bytes {
    uint8_t *b;
    size_t n;
} pack_bytes;
static pack_bytes packs[4]; /* [channels == 3][codec] */

static int setup(void **state)
{
    (void)state;
    vbp_error err;
    if (!(dir = fix_tmpdir()))
        return -1;
    snprintf(path, sizeof path, "%s/m.vbp", dir);
    for (int i = 0; i < 4; i++) {
        if (fix_write(path, i & 1 ? VBP_CODEC_LZ4 : VBP_CODEC_RAW, i & 2 ? 3 : 1, 1, &err) ||
            !(packs[i].b = fix_slurp(path, &packs[i].n)))
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++)
        free(packs[i].b);
    fix_rmdir(dir);
    return 0;
}

/* Open + verify of buf as a pack: VBP_OK or the first failure's code, err filled. */
static int check_bytes(const uint8_t *buf, size_t n, vbp_error *err)
{
    assert_int_equal(fix_spit(path, buf, n), 0);
    vbp_pack *p = NULL;
    memset(err, 0, sizeof *err);
    int rc = vbp_pack_open(path, &p, err);
    if (!rc)
        rc = vbp_pack_verify(p, NULL, NULL, err);
    vbp_pack_close(p);
    if (rc) {
        assert_true(err->code == rc && strstr(err->detail, path) == err->detail);
    }
    return rc;
}

static uint64_t rng = 0x243f6a8885a308d3ull; /* fixed seed */
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void intact_packs_verify(void **s)
{
    (void)s;
    vbp_error err;
    for (int i = 0; i < 4; i++)
        if (check_bytes(packs[i].b, packs[i].n, &err))
            fail_msg("intact pack %d: %s", i, err.detail);
}

/* 4 packs x 4 kinds x 40 cases: every mutated pack fails open or verify. */
static void random_mutations_never_verify(void **s)
{
    (void)s;
    int cases = 0;
    for (int i = 0; i < 4; i++) {
        const pack_bytes *g = &packs[i];
        uint8_t *b = malloc(g->n);
        for (int kind = 0; kind < 4; kind++)
            for (int k = 0; k < 40; k++) {
                memcpy(b, g->b, g->n);
                size_t n = g->n, at = 0;
                uint64_t r = next();
                if (kind == 0) { /* a byte of the first 8 KiB */
                    at = r % (g->n < 8192 ? g->n : 8192);
                    b[at] ^= (uint8_t)(r >> 32) | 1;
                } else if (kind == 1) { /* truncated */
                    n = r % g->n;
                } else if (kind == 2) { /* an 8-byte field of the header */
                    at = 8 * (r % (VBP_HEADER_SIZE / 8));
                    uint64_t v = next();
                    if (!memcmp(b + at, &v, 8))
                        v ^= 1;
                    memcpy(b + at, &v, 8);
                } else { /* a byte anywhere */
                    at = r % g->n;
                    b[at] ^= (uint8_t)(r >> 32) | 1;
                }
                vbp_error err;
                if (check_bytes(b, n, &err) == VBP_OK)
                    fail_msg("pack %d, mutation kind %d at %zu (size %zu of %zu) passed verify", i, kind,
                             at, n, g->n);
                cases++;
            }
        free(b);
    }
    assert_int_equal(cases, 640);
}

/* ---- one rule at a time: edit, re-sign the tables and header, expect the rule's message */

static void resign(uint8_t *buf)
{
    vbp_header h;
    vbp_header_decode(buf, &h);
    for (int s = 0; s < 2; s++)
        h.sec[s].checksum = XXH3_64bits(buf + h.sec[s].offset, (size_t)h.sec[s].length);
    vbp_header_encode(&h, buf);
}

static void expect_edit(const uint8_t *b, size_t n, int code, const char *part)
{
    vbp_error err;
    int rc = check_bytes(b, n, &err);
    if (rc != code || !strstr(err.detail, part))
        fail_msg("expected %s containing '%s', got %d: %s", vbp_strerror(code), part, rc, err.detail);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* tests run on little-endian */
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint8_t *copy(int which, vbp_header *h)
{
    uint8_t *b = malloc(packs[which].n);
    memcpy(b, packs[which].b, packs[which].n);
    vbp_header_decode(b, h);
    return b;
}

static void header_rules(void **s)
{
    (void)s;
    vbp_header h;
    size_t n = packs[0].n;
    uint8_t *b = copy(0, &h);
    h.flags = 1;
    vbp_header_encode(&h, b);
    expect_edit(b, n, VBP_E_FORMAT, "offset 16: header flags 0x1");
    free(b);

    b = copy(0, &h);
    b[200] = 7;
    vbp_header_encode(&h, b); /* encode zeroes reserved bytes: put it back after */
    b[200] = 7;
    put64(b + VBP_HEADER_SUM_OFFSET, vbp_header_checksum(b));
    expect_edit(b, n, VBP_E_FORMAT, "offset 200: header reserved byte is 0x07");
    free(b);

    b = copy(0, &h);
    h.sec[VBP_SEC_DATA].checksum = 5;
    vbp_header_encode(&h, b);
    expect_edit(b, n, VBP_E_FORMAT, "offset 144: data section checksum field");
    free(b);

    b = copy(0, &h); /* data section moved one page on (the tables follow it) */
    h.sec[VBP_SEC_DATA].offset += 4096;
    h.sec[VBP_SEC_DATA].length -= 4096;
    vbp_header_encode(&h, b);
    expect_edit(b, n, VBP_E_FORMAT, "offset 128: data section at 8192, a writer starts it at 4096");
    free(b);

    b = copy(1, &h); /* lz4: the clip table one 8-byte step later than the writer puts it */
    n = packs[1].n;
    uint8_t *c = calloc(1, n + 8);
    uint64_t ct = h.sec[VBP_SEC_CLIPS].offset;
    memcpy(c, b, ct);
    memcpy(c + ct + 8, b + ct, n - ct);
    h.sec[VBP_SEC_CLIPS].offset += 8;
    h.sec[VBP_SEC_FRAMES].offset += 8;
    h.file_size += 8;
    vbp_header_encode(&h, c);
    expect_edit(c, n + 8, VBP_E_FORMAT, "clip table at");
    free(c);
    free(b);

    b = copy(0, &h); /* header padding is not under any checksum */
    n = packs[0].n;
    b[1000] = 1;
    expect_edit(b, n, VBP_E_FORMAT, "offset 1000: padding after the header: byte 0x01");
    free(b);
}

static void clip_rules(void **s)
{
    (void)s;
    vbp_header h;
    size_t n = packs[0].n;
    uint8_t *b = copy(0, &h);
    uint64_t c0 = h.sec[VBP_SEC_CLIPS].offset, c1 = c0 + VBP_CLIP_ENTRY_SIZE;
    b[c0 + 10] = 'x'; /* after "rally1\0" */
    resign(b);
    expect_edit(b, n, VBP_E_FORMAT, "after the name's NUL, must be 0");
    free(b);

    b = copy(0, &h);
    b[c0 + 64 + 20] = 'x'; /* after "matchA\0" */
    resign(b);
    expect_edit(b, n, VBP_E_FORMAT, "clip 'matchA/rally1': byte 0x78 after the group's NUL");
    free(b);

    b = copy(0, &h);
    b[c0 + 133] = 1;
    resign(b);
    expect_edit(b, n, VBP_E_FORMAT, "clip 'matchA/rally1': reserved byte is 0x01");
    free(b);

    b = copy(0, &h); /* rally2 renamed rally1, in the same group */
    memcpy(b + c1, "rally1", 6);
    resign(b);
    char want[128];
    snprintf(want, sizeof want, "offset %llu: clip table entry 1: a second clip named 'matchA/rally1'",
             (unsigned long long)c1);
    expect_edit(b, n, VBP_E_FORMAT, want);
    /* the same name in another group is fine */
    memcpy(b + c1 + 64, "matchB", 6);
    resign(b);
    expect_edit(b, n, VBP_OK, "");
    free(b);
}

/* Frame index entry of the first frame with visibility v in pack 0. */
static uint8_t *entry_with(uint8_t *b, const vbp_header *h, uint8_t v)
{
    for (uint64_t f = 0; f < h->frame_count; f++) {
        uint8_t *e = b + h->sec[VBP_SEC_FRAMES].offset + f * VBP_FRAME_ENTRY_SIZE;
        if (e[80] == v)
            return e;
    }
    fail_msg("no frame with visibility %u", v);
    return NULL;
}

static void frame_rules(void **s)
{
    (void)s;
    static const size_t reserved[] = {36, 39, 76, 81, 83, 92, 95};
    vbp_header h;
    size_t n = packs[0].n;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        uint8_t *b = copy(0, &h);
        b[h.sec[VBP_SEC_FRAMES].offset + 3 * VBP_FRAME_ENTRY_SIZE + reserved[i]] = 0x20;
        resign(b);
        expect_edit(b, n, VBP_E_FORMAT, "frame index entry 3: reserved byte is 0x20");
        free(b);
    }
    const struct { uint8_t vis; float x, y; } bad_labels[] = {
        {0, 3.0f, -1.0f}, {0, -1.0f, 0.0f}, {VBP_NO_LABEL, 2.0f, 2.0f}, {1, NAN, 4.0f}, {1, 4.0f, INFINITY},
    };
    for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
        uint8_t *b = copy(0, &h);
        uint8_t *e = entry_with(b, &h, bad_labels[i].vis);
        memcpy(e + 84, &bad_labels[i].x, 4);
        memcpy(e + 88, &bad_labels[i].y, 4);
        resign(b);
        expect_edit(b, n, VBP_E_FORMAT, "visible: finite x, y; hidden or no label: -1, -1");
        free(b);
    }
}

static void record_rules(void **s)
{
    (void)s;
    vbp_header h;
    size_t n = packs[1].n;
    uint8_t *b = copy(1, &h); /* an lz4 pack that says it is raw */
    h.codec = VBP_CODEC_RAW;
    vbp_header_encode(&h, b);
    expect_edit(b, n, VBP_E_FORMAT, "lz4 record in a pack whose codec is raw");
    free(b);

    /* the first lz4 record with a gap before it: a non-zero gap byte, then the record moved into it */
    b = copy(1, &h);
    uint64_t prev_end = h.sec[VBP_SEC_DATA].offset;
    int found = 0;
    for (uint64_t f = 0; f < 5 && !found; f++) { /* rally1's frames come first in the file */
        uint8_t *e = b + h.sec[VBP_SEC_FRAMES].offset + f * VBP_FRAME_ENTRY_SIZE;
        uint64_t off = get64(e), size = get64(e + 8);
        if (e[32] == VBP_CODEC_LZ4 && off > prev_end) {
            found = 1;
            b[off - 1] = 9;
            expect_edit(b, n, VBP_E_FORMAT, "padding before clip 'matchA/rally1' frame");
            b[off - 1] = 0;
            put64(e, off - 8); /* 8-aligned, inside the data section, but not where a writer puts it */
            resign(b);
            expect_edit(b, n, VBP_E_FORMAT, "record at");
        }
        prev_end = off + size;
    }
    assert_true(found);
    free(b);

    /* padding after the data section (lz4: the last record rarely ends 8-aligned) */
    b = copy(1, &h);
    uint64_t end = h.sec[VBP_SEC_DATA].offset + h.sec[VBP_SEC_DATA].length;
    assert_true(end < h.sec[VBP_SEC_CLIPS].offset);
    b[end] = 1;
    expect_edit(b, n, VBP_E_FORMAT, "padding after the data section: byte 0x01");
    free(b);

    /* a stored block that is not smaller than raw: a writer would have stored the record raw */
    b = copy(1, &h);
    uint8_t *e = b + h.sec[VBP_SEC_FRAMES].offset + 1 * VBP_FRAME_ENTRY_SIZE;
    assert_int_equal(e[32], VBP_CODEC_LZ4);
    put64(e + 8, FIX_W * FIX_H);
    resign(b);
    expect_edit(b, n, VBP_E_FORMAT, "is not smaller than raw");
    free(b);
    (void)put32;
}

/* Under 8 bytes: a prefix of the magic (the empty file too) is truncated, anything else not a pack. */
static void short_files(void **s)
{
    (void)s;
    vbp_error err;
    assert_int_equal(check_bytes((const uint8_t *)"", 0, &err), VBP_E_TRUNCATED);
    assert_int_equal(check_bytes((const uint8_t *)"\x89VBP", 4, &err), VBP_E_TRUNCATED);
    assert_non_null(strstr(err.detail, "file is 4 bytes, shorter than the 256-byte header"));
    assert_int_equal(check_bytes((const uint8_t *)"hello", 5, &err), VBP_E_FORMAT);
    assert_non_null(strstr(err.detail, "not a vbpack file (bad magic)"));
    assert_int_equal(check_bytes(packs[0].b, 100, &err), VBP_E_TRUNCATED);
}

/* The writer keeps the same rules: unique names, the label convention. */
static void writer_rules(void **s)
{
    (void)s;
    vbp_writer_opts o = {{FIX_H, FIX_W, 1, 1}, VBP_CODEC_RAW, 1};
    vbp_writer *w;
    vbp_error err;
    uint8_t px[FIX_W * FIX_H] = {0};
    assert_int_equal(vbp_writer_open(path, &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "r", "A", VBP_SPLIT_TRAIN, &err), VBP_OK);
    const vbp_label bad[] = {{0, 1.0f, -1.0f}, {1, NAN, 1.0f}, {VBP_NO_LABEL, 0.0f, 0.0f}, {2, -1.0f, -1.0f}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vbp_writer_add_frame(w, px, &bad[i], &err), VBP_E_ARG);
        assert_non_null(strstr(err.detail, "hidden or no label: -1, -1"));
    }
    const vbp_label ok = {1, -3.5f, 700.0f}; /* outside the image is allowed: finite is the rule */
    assert_int_equal(vbp_writer_add_frame(w, px, &ok, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "r", "A", VBP_SPLIT_TRAIN, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "a second clip named 'A/r'"));
    assert_int_equal(vbp_writer_begin_clip(w, "r", "B", VBP_SPLIT_VAL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_verify(p, NULL, NULL, &err), VBP_OK);
    assert_int_equal(vbp_pack_find_clip(p, "r"), VBP_CLIP_AMBIGUOUS);
    assert_int_equal(vbp_pack_find_clip(p, "A/r"), 0);
    assert_int_equal(vbp_pack_find_clip(p, "B/r"), 1);
    assert_int_equal(vbp_pack_find_clip(p, "C/r"), -1);
    vbp_pack_close(p);
    /* vbdump export does not pick one of them */
    const char *build = getenv("VBP_BUILD_DIR");
    assert_non_null(build);
    char tool[4096], prefix[4200], out[4200], errf[4200];
    snprintf(tool, sizeof tool, "%s/tools/vbdump", build);
    snprintf(prefix, sizeof prefix, "%s/x", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    snprintf(errf, sizeof errf, "%s/err.txt", dir);
    char *argv[] = {tool, "export", path, "r", "0", "-o", prefix, NULL};
    assert_int_equal(fx_run(argv, out, errf), 2); /* a usage error, naming both */
    char *msg = fix_slurp(errf, NULL);
    assert_non_null(msg);
    assert_non_null(strstr(msg, ": 'r' is ambiguous: A/r, B/r (name one of them)\n"));
    free(msg);
    char *argv2[] = {tool, "export", path, "B/r", "0", "-o", prefix, NULL};
    assert_int_equal(fx_run(argv2, out, errf), 0);
}

/*
 * formats/vbpack.md, codec 1: the stored bytes of an lz4 record are those of the writer's
 * encoder (LZ4_compress_default); another encoder's block (the streaming API, which Python's
 * lz4.block uses; LZ4 HC) is as valid: verify checks that a block decodes, not who made it.
 */
static void other_lz4_encoders_verify(void **s)
{
    (void)s;
    enum { W = 96, H = 96, N = W * H, CAP = LZ4_COMPRESSBOUND(N) }; /* 9216 bytes: < 64 KiB + 11 */
    static uint8_t px[N], blocks[3][CAP], back[N];
    for (int i = 0; i < N; i++)
        px[i] = (uint8_t)((i % W) / 8 * 16 + (i / W) / 12 + (i % 7 == 0));
    int n[3];
    n[0] = LZ4_compress_default((const char *)px, (char *)blocks[0], N, CAP);
    LZ4_stream_t stream;
    assert_non_null(LZ4_initStream(&stream, sizeof stream));
    n[1] = LZ4_compress_fast_continue(&stream, (const char *)px, (char *)blocks[1], N, CAP, 1);
    n[2] = LZ4_compress_HC((const char *)px, (char *)blocks[2], N, CAP, LZ4HC_CLEVEL_DEFAULT);
    for (int k = 0; k < 3; k++)
        assert_true(n[k] > 0 && n[k] < N);
    assert_true(n[2] != n[0] || memcmp(blocks[2], blocks[0], (size_t)n[0]));
    if (LZ4_versionNumber() == 10904) /* Debian 12's liblz4, as measured in formats/vbpack.md */
        assert_true(n[1] != n[0] || memcmp(blocks[1], blocks[0], (size_t)n[0]));
    vbp_writer_opts o = {{H, W, 1, 1}, VBP_CODEC_LZ4, 1};
    vbp_writer *w;
    vbp_error err;
    assert_int_equal(vbp_writer_open(path, &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "c", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    for (int k = 0; k < 3; k++) {
        vbp_record r = {blocks[k], (uint64_t)n[k], N, XXH3_64bits(blocks[k], (size_t)n[k]),
                        VBP_CODEC_LZ4};
        assert_int_equal(vbp_writer_add_frame_encoded(w, &r, NULL, &err), VBP_OK);
    }
    memset(back, 0, sizeof back);
    for (int k = 0; k < 3; k++)
        assert_int_equal(vbp_writer_add_heatmap(w, back, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    if (vbp_pack_verify(p, NULL, NULL, &err))
        fail_msg("%s", err.detail);
    for (int k = 0; k < 3; k++) {
        vbp_record r;
        assert_int_equal(vbp_pack_record(p, (uint64_t)k, VBP_REC_FRAME, &r), VBP_OK);
        assert_int_equal(r.stored_size, n[k]);
        assert_int_equal(vbp_record_decode(&r, back, sizeof back, &err), VBP_OK);
        assert_memory_equal(back, px, N);
    }
    vbp_pack_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intact_packs_verify),
        cmocka_unit_test(random_mutations_never_verify),
        cmocka_unit_test(header_rules),
        cmocka_unit_test(clip_rules),
        cmocka_unit_test(frame_rules),
        cmocka_unit_test(record_rules),
        cmocka_unit_test(writer_rules),
        cmocka_unit_test(short_files),
        cmocka_unit_test(other_lz4_encoders_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

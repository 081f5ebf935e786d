/*
 * test_hostile_alloc.c - opening a hostile pack allocates and maps nothing
 * sized by its claims.
 *
 * The library is a static archive linked into this test with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=mmap64 (glibc's
 * name for mmap under _FILE_OFFSET_BITS=64), so every
 * allocation and mapping the library asks for passes through the counters
 * below (in the ASan build too: __real_* are ASan's interceptors).  Each
 * hostile pack claims counts, lengths or dimensions that, used before being
 * checked against the file, would ask for megabytes to exabytes; the test
 * asserts that it is refused with the specific message, that no single
 * request exceeded a small bound and that the only mapping is the file's
 * real size.  tests/test_pack_hostile.c covers the other refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>
#include "pack_fixture.h"
#include "pack_format.h"

/* ---------------------------------------------------------- accounting */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);

#define LIMIT (64u << 10) /* larger requests are refused while armed */
static int armed;
static size_t largest_alloc, largest_map, maps;

static int account(size_t n)
{
    if (!armed)
        return 1;
    if (n > largest_alloc)
        largest_alloc = n;
    return n <= LIMIT;
}

void *__wrap_malloc(size_t n) { return account(n) ? __real_malloc(n) : NULL; }
void *__wrap_realloc(void *p, size_t n) { return account(n) ? __real_realloc(p, n) : NULL; }
void *__wrap_calloc(size_t n, size_t k)
{
    size_t bytes = k && n > SIZE_MAX / k ? SIZE_MAX : n * k;
    return account(bytes) ? __real_calloc(n, k) : NULL;
}
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (armed) {
        maps++;
        if (len > largest_map)
            largest_map = len;
    }
    return __real_mmap64(addr, len, prot, flags, fd, off);
}

/* ------------------------------------------------------------- fixture */

static char *dir;
static char path[4096];
static uint8_t *good;
static size_t good_size;

static int setup(void **state)
{
    (void)state;
    vbp_error err;
    if (!(dir = fix_tmpdir()))
        return -1;
    snprintf(path, sizeof path, "%s/a.vbp", dir);
    if (fix_write(path, VBP_CODEC_LZ4, 1, 1, &err) || !(good = fix_slurp(path, &good_size)))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(good);
    fix_rmdir(dir);
    return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute the index checksums (sections inside the buffer) and the header's. */
static void resign(uint8_t *buf, size_t n)
{
    vbp_header h;
    vbp_header_decode(buf, &h);
    for (int s = 0; s < 2; s++)
        if (h.sec[s].offset <= n && h.sec[s].length <= n - h.sec[s].offset)
            h.sec[s].checksum = XXH3_64bits(buf + h.sec[s].offset, (size_t)h.sec[s].length);
    vbp_header_encode(&h, buf);
}

/*
 * Write buf as the pack, open it with the accounting armed and expect
 * `code` with `detail_part` in the message; then check the bounds.
 */
static void expect_refused(const uint8_t *buf, size_t n, int code, const char *detail_part)
{
    assert_int_equal(fix_spit(path, buf, n), 0);
    vbp_pack *p = NULL;
    vbp_error err;
    largest_alloc = largest_map = maps = 0;
    armed = 1;
    int rc = vbp_pack_open(path, &p, &err);
    armed = 0;
    if (rc != code || !strstr(err.detail, detail_part))
        fail_msg("expected %s containing '%s', got %d: %s", vbp_strerror(code), detail_part, rc,
                 rc ? err.detail : "(opened)");
    assert_null(p);
    assert_non_null(strstr(err.detail, path));
    if (largest_alloc > 4096)
        fail_msg("'%s': an allocation of %zu bytes before the claim was refused", detail_part,
                 largest_alloc);
    assert_true(maps <= 1);
    assert_true(largest_map <= n); /* the file's real size, never a claimed one */
}

typedef void (*edit_fn)(vbp_header *h);
static void header_case(edit_fn edit, int code, const char *detail_part)
{
    uint8_t *b = malloc(good_size);
    memcpy(b, good, good_size);
    vbp_header h;
    vbp_header_decode(b, &h);
    edit(&h);
    vbp_header_encode(&h, b);
    resign(b, good_size);
    expect_refused(b, good_size, code, detail_part);
    free(b);
}

/* ------------------------------------------------------------- claims */

/* 2^20 clips: 150 MiB of clip records if allocated from the count. */
static void e_many_clips(vbp_header *h) { h->clip_count = 1u << 20; h->frame_count = 1u << 20; }
/* 2^32-1 frames: an index of 384 GiB. */
static void e_max_frames(vbp_header *h) { h->frame_count = VBP_MAX_FRAMES; }
/* frame_count * 96 wraps to the real index length: 12 + 2^59 frames. */
static void e_frames_wrap(vbp_header *h) { h->frame_count = 12 + (1ull << 59); }
/* clip_count * 152 wraps to the real clip table length: 3 + 2^61 clips. */
static void e_clips_wrap(vbp_header *h) { h->clip_count = 3 + (1ull << 61); h->frame_count = 4 + (1ull << 61); }
/* both sections made to claim the whole address space */
static void e_lengths_huge(vbp_header *h)
{
    h->sec[VBP_SEC_CLIPS].length = UINT64_MAX - 7;
    h->sec[VBP_SEC_FRAMES].offset = UINT64_MAX - 95;
}
/* a file size of 1 EiB: mapping it would be the claim */
static void e_file_huge(vbp_header *h) { h->file_size = 1ull << 60; }
/* dimensions whose product with 3 channels and the frame count overflows 64 bits */
static void e_dims_product(vbp_header *h)
{
    h->geometry.width = 1u << 31;
    h->geometry.height = 1u << 31;
    h->geometry.frame_channels = 3;
}

static void claims_in_header(void **s)
{
    (void)s;
    header_case(e_many_clips, VBP_E_FORMAT, "clip table is 456 bytes, its count needs 159383552");
    header_case(e_max_frames, VBP_E_FORMAT, "frame index is 1152 bytes, its count needs 412316860320");
    header_case(e_frames_wrap, VBP_E_FORMAT, "frames (need 1 <= clips <= frames < 2^32)");
    header_case(e_clips_wrap, VBP_E_FORMAT, "frames (need 1 <= clips <= frames < 2^32)");
    header_case(e_lengths_huge, VBP_E_FORMAT, "clip table (offset");
    header_case(e_file_huge, VBP_E_TRUNCATED, "header says 1152921504606846976");
    header_case(e_dims_product, VBP_E_FORMAT, "geometry 2147483648x2147483648");
}

/*
 * Records that claim more bytes than the file could ever decode to: the
 * largest geometry (16384 x 16384 x 3 = 768 MiB a frame) served by lz4
 * records of a few bytes.  A loader sizing buffers from such a pack would
 * allocate gigabytes for a file of kilobytes; no lz4 block expands more than
 * 255 times, so the reader refuses a raw size above 255 x the stored size.
 */
static void lz4_claims_beyond_255x(void **s)
{
    (void)s;
    uint8_t *b = malloc(good_size);
    memcpy(b, good, good_size);
    vbp_header h;
    vbp_header_decode(b, &h);
    h.geometry.width = h.geometry.height = VBP_MAX_DIM;
    h.geometry.frame_channels = 3;
    const uint64_t frame_raw = 3ull * VBP_MAX_DIM * VBP_MAX_DIM, heat_raw = frame_raw / 3;
    for (uint64_t f = 0; f < h.frame_count; f++) {
        uint8_t *e = b + h.sec[VBP_SEC_FRAMES].offset + f * VBP_FRAME_ENTRY_SIZE;
        vbp_frame_entry fe;
        vbp_frame_entry_decode(e, &fe);
        for (int k = 0; k < 2; k++) {
            put64(e + 40 * k + 16, k ? heat_raw : frame_raw);
            e[40 * k + 32] = VBP_CODEC_LZ4;
            /* the stored bytes stay inside the data section and keep their alignment */
            put64(e + 40 * k, fe.rec[k].offset & ~7ull);
        }
    }
    vbp_header_encode(&h, b);
    resign(b, good_size);
    expect_refused(b, good_size, VBP_E_FORMAT, "frame index entry 0: frame lz4 stored size outside");
    free(b);
}

/* An intact pack: what open allocates is bounded by the file, not by a claim. */
static void intact_pack_is_bounded_by_its_file(void **s)
{
    (void)s;
    assert_int_equal(fix_spit(path, good, good_size), 0);
    vbp_pack *p = NULL;
    vbp_error err;
    largest_alloc = largest_map = maps = 0;
    armed = 1;
    int rc = vbp_pack_open(path, &p, &err);
    armed = 0;
    assert_int_equal(rc, VBP_OK);
    assert_int_equal(maps, 1);
    assert_int_equal(largest_map, good_size);
    assert_true(largest_alloc <= good_size);
    vbp_pack_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intact_pack_is_bounded_by_its_file),
        cmocka_unit_test(claims_in_header),
        cmocka_unit_test(lz4_claims_beyond_255x),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

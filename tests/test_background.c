/*
 * test_background.c - src/image/background.c: the lower median per byte (against sorting,
 * across its blocks), the stride rule, and the streaming sampler keeping exactly the frames
 * the stride rule picks (what makes vbtrain track's background the loader's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "background.h"

static int cmp_u8(const void *a, const void *b)
{
    return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}

static void median_is_the_lower_middle_value(void **s)
{
    (void)s;
    const uint8_t f0[] = { 9, 0, 255, 7 }, f1[] = { 1, 0, 254, 7 }, f2[] = { 5, 255, 0, 7 },
                  f3[] = { 3, 255, 1, 7 };
    const uint8_t *four[] = { f0, f1, f2, f3 };
    uint8_t out[4];
    assert_int_equal(vbp_bg_median(four, 4, 4, out), 0);
    /* sorted: 1 3 5 9 -> 3; 0 0 255 255 -> 0; 0 1 254 255 -> 1; all 7 */
    const uint8_t want4[] = { 3, 0, 1, 7 };
    assert_memory_equal(out, want4, 4);
    assert_int_equal(vbp_bg_median(four, 3, 4, out), 0); /* 1 5 9 -> 5; 0 0 255; 0 254 255 */
    const uint8_t want3[] = { 5, 0, 254, 7 };
    assert_memory_equal(out, want3, 4);
    assert_int_equal(vbp_bg_median(four, 1, 4, out), 0);
    assert_memory_equal(out, f0, 4);
}

static void median_matches_sorting_across_blocks(void **s)
{
    (void)s;
    const size_t bytes = 3001; /* three blocks and a partial one */
    uint64_t seed = 7;
    for (uint32_t m = 1; m <= 255; m += 37) {
        uint8_t *buf = malloc((size_t)m * bytes), *out = malloc(bytes), col[255];
        const uint8_t **frames = malloc(m * sizeof *frames);
        for (size_t i = 0; i < (size_t)m * bytes; i++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            buf[i] = (uint8_t)(i % 5 ? seed >> 24 : (seed >> 24) & 3); /* some ties */
        }
        for (uint32_t j = 0; j < m; j++)
            frames[j] = buf + (size_t)j * bytes;
        assert_int_equal(vbp_bg_median(frames, m, bytes, out), 0);
        for (size_t i = 0; i < bytes; i++) {
            for (uint32_t j = 0; j < m; j++)
                col[j] = frames[j][i];
            qsort(col, m, 1, cmp_u8);
            if (out[i] != col[(m - 1) / 2])
                fail_msg("m %u byte %zu: %u, sorting gives %u", m, i, out[i], col[(m - 1) / 2]);
        }
        free(buf);
        free(out);
        free(frames);
    }
}

static void stride_leaves_at_most_128_frames(void **s)
{
    (void)s;
    assert_int_equal(vbp_bg_stride(1), 1);
    assert_int_equal(vbp_bg_stride(128), 1);
    assert_int_equal(vbp_bg_stride(129), 2);
    assert_int_equal(vbp_bg_stride(256), 2);
    assert_int_equal(vbp_bg_stride(257), 4);
    assert_int_equal(vbp_bg_stride(100000), 1024); /* 98 frames; 512 would leave 196 */
}

/* Frames numbered in their two bytes: the sampler's kept frames are 0, s, 2s, ... < n. */
static void sampler_keeps_the_frames_of_the_stride(void **s)
{
    (void)s;
    for (uint64_t n = 1; n <= 1100; n += n < 300 ? 1 : 7) {
        vbp_bg_sampler b;
        assert_int_equal(vbp_bg_sampler_init(&b, 2), 0);
        for (uint64_t f = 0; f < n; f++) {
            uint8_t *slot = vbp_bg_sampler_slot(&b);
            slot[0] = (uint8_t)f, slot[1] = (uint8_t)(f >> 8);
            vbp_bg_sampler_push(&b);
        }
        const uint64_t st = vbp_bg_stride(n);
        assert_int_equal(b.n, n);
        assert_int_equal(b.s, st);
        assert_int_equal(b.m, (n + st - 1) / st);
        for (uint32_t j = 0; j < b.m; j++) {
            const uint8_t *k = b.keep + 2 * j;
            if ((uint64_t)(k[0] | k[1] << 8) != j * st)
                fail_msg("n %llu: slot %u holds frame %u, not %llu", (unsigned long long)n, j,
                         k[0] | k[1] << 8, (unsigned long long)(j * st));
        }
        vbp_bg_sampler_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(median_is_the_lower_middle_value),
        cmocka_unit_test(median_matches_sorting_across_blocks),
        cmocka_unit_test(stride_leaves_at_most_128_frames),
        cmocka_unit_test(sampler_keeps_the_frames_of_the_stride),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_resize.c - src/image/resize_area.c: its SSE2, AVX2 (where the CPU has
 * it) and portable C kernels give the same bytes for every shape of tap table; a flat image stays flat;
 * growing is refused.  (Equality with OpenCV itself: test_resize_reference.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "resize.h"

static uint8_t *image(uint32_t w, uint32_t h, uint64_t seed)
{
    size_t n = (size_t)3 * w * h;
    uint8_t *b = calloc(n + VBP_AREA_PAD, 1);
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        b[i] = (uint8_t)(seed >> 24);
    }
    return b;
}

static void kernels_agree(void **s)
{
    (void)s;
    static const uint32_t sizes[][4] = {
        {1280, 720, 512, 288}, {1920, 1080, 512, 288}, {3840, 2160, 300, 200}, {1000, 700, 999, 1},
        {97, 61, 13, 11}, {640, 360, 512, 288}, {5, 5, 2, 2}, {2000, 10, 3, 7},
    };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const uint32_t *z = sizes[k];
        uint8_t *src = image(z[0], z[1], k + 1);
        size_t out = (size_t)3 * z[2] * z[3];
        uint8_t *a = malloc(out), *b = malloc(out);
        vbp_area *plan;
        vbp_error err;
        assert_int_equal(vbp_area_create(z[0], z[1], z[2], z[3], &plan, &err), VBP_OK);
        /* the C kernel is the reference; every faster one this CPU has must give its bytes */
        assert_int_equal(vbp_area_set_simd(plan, 0), 0);
        vbp_area_run(plan, src, (size_t)3 * z[0], a);
        for (int level = 1; level <= 3; level++) {
            if (vbp_area_set_simd(plan, level) != level)
                continue;
            memset(b, 0xAA, out);
            vbp_area_run(plan, src, (size_t)3 * z[0], b);
            if (memcmp(a, b, out))
                fail_msg("%ux%u -> %ux%u: kernel %d and the C kernel differ", z[0], z[1], z[2],
                         z[3], level);
        }
        vbp_area_free(plan);
        free(src);
        free(a);
        free(b);
    }
}

/* The 720p -> 512x288 shrink of the video route takes the widest kernels the CPU has (VBP_ISA caps them). */
static void avx2_where_the_cpu_has_it(void **s)
{
    (void)s;
    const char *isa = getenv("VBP_ISA");
    int want = 0;
#ifdef __SSE2__
    want = 1;
#endif
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        !(isa && !strcmp(isa, "generic")))
        want = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               !(isa && !strcmp(isa, "avx2")) ? 3 : 2;
#endif
    vbp_area *plan;
    assert_int_equal(vbp_area_create(1280, 720, 512, 288, &plan, NULL), VBP_OK);
    assert_int_equal(vbp_area_set_simd(plan, 3), want);
    vbp_area_free(plan);
}

static void flat_stays_flat(void **s)
{
    (void)s;
    const uint32_t sw = 1281, sh = 719, dw = 512, dh = 288;
    uint8_t *src = calloc((size_t)3 * sw * sh + VBP_AREA_PAD, 1), *out = malloc((size_t)3 * dw * dh);
    for (size_t i = 0; i < (size_t)sw * sh; i++)
        src[3 * i] = 10, src[3 * i + 1] = 128, src[3 * i + 2] = 255; /* B, G, R */
    vbp_area *plan;
    assert_int_equal(vbp_area_create(sw, sh, dw, dh, &plan, NULL), VBP_OK);
    vbp_area_run(plan, src, (size_t)3 * sw, out);
    for (size_t i = 0; i < (size_t)dw * dh; i++)
        assert_true(out[i] == 255 && out[dw * dh + i] == 128 && out[2 * dw * dh + i] == 10);
    vbp_area_free(plan);
    free(src);
    free(out);
}

static void growing_is_refused(void **s)
{
    (void)s;
    vbp_area *plan = (vbp_area *)1;
    vbp_error err;
    assert_int_equal(vbp_area_create(320, 240, 512, 288, &plan, &err), VBP_E_ARG);
    assert_null(plan);
    assert_non_null(strstr(err.detail, "cannot shrink 320x240 to 512x288"));
    assert_int_equal(vbp_area_create(640, 240, 512, 288, &plan, &err), VBP_E_ARG);
    assert_int_equal(vbp_area_create(640, 360, 0, 288, &plan, &err), VBP_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernels_agree),
        cmocka_unit_test(avx2_where_the_cpu_has_it),
        cmocka_unit_test(flat_stays_flat),
        cmocka_unit_test(growing_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

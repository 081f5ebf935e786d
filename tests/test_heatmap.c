/*
 * test_heatmap.c - disc and Gaussian target heatmaps, border safety, and the
 * Gaussian convention checked against the real TrackNetV4 heatmaps in
 * $VBP_REAL_DATA.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vbp_image.h"
#include "png_test_read.h"

static const vbp_heatmap_style DISC = {VBP_HEATMAP_DISC, 3.0f, 0.0f};
static const vbp_heatmap_style GAUSS = {VBP_HEATMAP_GAUSSIAN, 0.0f, 3.0f};

/* Label (5, 6), radius 3 -> disc centred at (6, 7); worked out by hand. */
static void disc_geometry_is_exact(void **state)
{
    (void)state;
    static const char *want[] = {
        "............",
        "............",
        "............",
        "............",
        "......#.....", /* y = 4: dy = -3, only dx = 0 */
        "....#####...", /* y = 5: dy = -2, |dx| <= 2 (4+4 <= 9 < 9+4) */
        "....#####...", /* y = 6: dy = -1, |dx| <= 2 (4+1 <= 9 < 9+1) */
        "...#######..", /* y = 7: dy = 0, |dx| <= 3 */
        "....#####...",
        "....#####...",
        "......#.....",
        "............",
    };
    uint8_t hm[12 * 12] = {0};
    vbp_heatmap_draw(hm, 12, 12, 5.0f, 6.0f, &DISC);
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 12; x++)
            assert_int_equal(hm[y * 12 + x], want[y][x] == '#' ? 255 : 0);
}

static void gaussian_peak_symmetry_and_truncation(void **state)
{
    (void)state;
    enum { W = 40, H = 30 };
    uint8_t hm[W * H] = {0};
    vbp_heatmap_draw(hm, W, H, 20.0f, 15.0f, &GAUSS);
    assert_int_equal(hm[15 * W + 20], 255);
    assert_int_equal(hm[15 * W + 21], 241); /* 255 e^(-1/18) = 241.2 */
    assert_int_equal(hm[15 * W + 23], 154); /* 154.67: truncated, not rounded */
    assert_int_equal(hm[15 * W + 24], 104); /* 104.8 */
    size_t nonzero = 0;
    for (int dy = -14; dy <= 14; dy++)
        for (int dx = -14; dx <= 14; dx++) {
            uint8_t v = hm[(15 + dy) * W + 20 + dx];
            assert_int_equal(v, hm[(15 - dy) * W + 20 - dx]);
            assert_int_equal(v, hm[(15 + dx) * W + 20 + dy]);
            assert_int_equal(v != 0, dx * dx + dy * dy <= 99); /* 255 e^(-d2/18) >= 1 */
            nonzero += v != 0;
        }
    assert_int_equal(nonzero, 305);
    /* a sub-pixel centre is normalised so its nearest pixel is still 255 */
    memset(hm, 0, sizeof hm);
    vbp_heatmap_draw(hm, W, H, 20.4f, 15.2f, &GAUSS);
    assert_int_equal(hm[15 * W + 20], 255);
    assert_true(hm[15 * W + 21] > hm[15 * W + 19]);
}

/* Draw into a buffer framed by guard bytes; they must survive. */
static void draw_guarded(float x, float y, const vbp_heatmap_style *st, uint8_t *out)
{
    enum { W = 17, H = 11, G = 4096 };
    static uint8_t buf[G + W * H + G];
    memset(buf, 0xAB, sizeof buf);
    memset(buf + G, 0, W * H);
    vbp_heatmap_draw(buf + G, W, H, x, y, st);
    for (size_t i = 0; i < G; i++) {
        assert_int_equal(buf[i], 0xAB);
        assert_int_equal(buf[G + W * H + i], 0xAB);
    }
    memcpy(out, buf + G, W * H);
}

static size_t count_nonzero(const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] != 0;
    return k;
}

static void borders_and_bad_coordinates_are_safe(void **state)
{
    (void)state;
    enum { W = 17, H = 11, N = W * H };
    uint8_t hm[N];
    const vbp_heatmap_style *styles[] = {&DISC, &GAUSS};
    const float bad[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 4e9f, -4e9f};
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            draw_guarded(bad[i], 5.0f, styles[s], hm);
            assert_int_equal(count_nonzero(hm, N), 0);
            draw_guarded(5.0f, bad[i], styles[s], hm);
            assert_int_equal(count_nonzero(hm, N), 0);
        }
        const float edge[][2] = {{0, 0}, {-1, -1}, {16, 10}, {17, 11}, {-3, 5}, {8, -2}};
        for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
            draw_guarded(edge[i][0], edge[i][1], styles[s], hm);
            assert_true(count_nonzero(hm, N) > 0);
        }
        draw_guarded(-200.0f, -200.0f, styles[s], hm);
        assert_int_equal(count_nonzero(hm, N), 0);
    }
    /* the disc's (+1, +1) shift: label (-1, -1) is a quarter disc at the corner */
    draw_guarded(-1.0f, -1.0f, &DISC, hm);
    assert_int_equal(hm[0], 255);
    assert_int_equal(hm[3], 255);
    assert_int_equal(hm[4], 0);
    assert_int_equal(hm[2 * W + 2], 255);
    assert_int_equal(hm[2 * W + 3], 0);
    assert_int_equal(count_nonzero(hm, N), 11);
    /* a Gaussian centred just outside is scaled so its brightest visible pixel is 255 */
    draw_guarded(-2.0f, 5.0f, &GAUSS, hm);
    assert_int_equal(hm[5 * W], 255);
    /* a zero-size image is a no-op */
    vbp_heatmap_draw(hm, 0, 0, 1.0f, 1.0f, &GAUSS);
}

enum { WIN = 30, HALF = 14 };

/*
 * Largest |drawn - real| (times 10^6, plus the sum of all) over the WIN x WIN window whose pixel HALF,HALF is
 * (X, Y), drawing the ball at (X + fx, Y + fy).  Drawing into the window
 * alone is exact: the brightest pixel (nearest the centre) lies inside it.
 */
static int window_diff(const uint8_t *real, uint32_t w, uint32_t h, int X, int Y, float fx, float fy)
{
    uint8_t win[WIN * WIN] = {0};
    vbp_heatmap_draw(win, WIN, WIN, (float)HALF + fx, (float)HALF + fy, &GAUSS);
    int worst = 0, sum = 0;
    for (int j = 0; j < WIN; j++)
        for (int i = 0; i < WIN; i++) {
            int x = X - HALF + i, y = Y - HALF + j;
            if (x < 0 || y < 0 || x >= (int)w || y >= (int)h)
                continue;
            int d = abs((int)win[j * WIN + i] - (int)real[(size_t)y * w + x]);
            worst = d > worst ? d : worst;
            sum += d;
        }
    return worst * 1000000 + sum; /* ordered by max, then by total */
}

/*
 * Smallest window_diff over centres X + fx, Y + fy with fx, fy in [0, 1):
 * a grid of `step`, then two finer grids (step/10, step/100) around the best
 * point.  Returns the smallest max difference found.
 */
static int best_fit(const uint8_t *real, uint32_t w, uint32_t h, int X, int Y, float step,
                    int levels)
{
    float bx = 0.0f, by = 0.0f, lo = 0.0f, s = step;
    int n = (int)lrintf(1.0f / step), best = INT_MAX;
    for (int level = 0; level < levels && best; level++) {
        float cx = bx, cy = by;
        for (int i = 0; i <= n && best; i++)
            for (int j = 0; j <= n && best; j++) {
                float fx = level ? cx + (float)(i - n / 2) * s : lo + (float)i * s;
                float fy = level ? cy + (float)(j - n / 2) * s : lo + (float)j * s;
                int e = window_diff(real, w, h, X, Y, fx, fy);
                if (e < best) {
                    best = e;
                    bx = fx;
                    by = fy;
                }
            }
        s /= 10.0f;
        n = 20;
    }
    return best / 1000000;
}

/*
 * For each frame of one real clip: hidden frames are all zero; a visible one
 * is non-zero only within HALF pixels of the label; drawing at the label plus
 * the fraction the CSV lost (found by search) reproduces it within
 * `fit_limit`; drawing at the integer label stays within `int_limit`.
 */
static void check_real_clip(const char *match, const char *clip, float step, int levels,
                            int fit_limit, int int_limit)
{
    const char *root = getenv("VBP_REAL_DATA");
    if (!root)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/tracknetv4/%s/csv/%s_ball.csv", root, match, clip);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "Frame,Visibility,X,Y\n");
    int frame, vis, X, Y, visible = 0, worst_int = 0, worst_fit = 0;
    while (fscanf(f, "%d,%d,%d,%d", &frame, &vis, &X, &Y) == 4) {
        snprintf(path, sizeof path, "%s/tracknetv4/%s/heatmaps/%s/%d.png", root, match, clip, frame);
        uint32_t w = 0, h = 0;
        uint8_t *real = test_png_load(path, 1, &w, &h);
        assert_non_null(real);
        size_t outside = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                if (real[(size_t)y * w + x] &&
                    (!vis || abs((int)x - X) > HALF || abs((int)y - Y) > HALF))
                    outside++;
        assert_int_equal(outside, 0);
        if (vis) {
            visible++;
            int d = window_diff(real, w, h, X, Y, 0.0f, 0.0f) / 1000000;
            worst_int = d > worst_int ? d : worst_int;
            d = best_fit(real, w, h, X, Y, step, levels);
            worst_fit = d > worst_fit ? d : worst_fit;
        }
        free(real);
    }
    fclose(f);
    print_message("%s: %d visible frames; max diff: %d from integer labels, %d at fitted centres\n",
                  clip, visible, worst_int, worst_fit);
    assert_true(visible > 10);
    assert_true(worst_fit <= fit_limit);
    assert_true(worst_int <= int_limit);
}

static void real_volleyball_heatmaps(void **state)
{
    (void)state;
    /* centres are multiples of 0.2 px (integer 1280x720 labels x 0.4): exact */
    check_real_clip("match_volleyball", "VolleyballShortClip", 0.2f, 1, 0, 57);
}

static void real_badminton_heatmaps(void **state)
{
    (void)state;
    /* real-valued source labels: centres searched to 0.0001 px */
    check_real_clip("match_badminton", "00039", 0.1f, 4, 0, 62);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(disc_geometry_is_exact),
        cmocka_unit_test(gaussian_peak_symmetry_and_truncation),
        cmocka_unit_test(borders_and_bad_coordinates_are_safe),
        cmocka_unit_test(real_volleyball_heatmaps),
        cmocka_unit_test(real_badminton_heatmaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

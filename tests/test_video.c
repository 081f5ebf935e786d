/*
 * test_video.c - video input (src/video, src/pack/video_scan.c, the packer's
 * video path) and vbp_track_run, on tiny synthetic H.264 videos made here
 * with the library's own writer: a white ball moving over a gradient.
 *   - decoding: size, rate, frame count, end of stream, where the ball is;
 *   - both video layouts, detected and named: clips, matches, sources,
 *     labels scaled into the pack, heatmaps drawn from them, frames as
 *     vbp_video_read gives them, bytes independent of the thread count;
 *   - bad input, one line naming the file, exit 1, nothing at the target:
 *     CSV shorter or longer than the video, a bad row, no CSV, a truncated,
 *     empty or fake video, a video of no frames;
 *   - track: a CSV row per frame in the video's pixels, an overlay video of
 *     every frame, clear errors for videos it cannot use (too short, too small,
 *     empty, no frames).
 * Without FFmpeg (meson -Dffmpeg=disabled) the whole file is SKIPPED.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "fixture.h"
#include "vbp_image.h"
#include "vbp_pack.h"
#include "vbp_train.h"
#include "vbp_video.h"

#define VW 320u /* synthetic videos: 320x180 at 25 fps, packed at 128x72 (a 2.5x shrink) */
#define VH 180u
#define PW 128u
#define PH 72u

static const char *at(const char *rel)
{
    static char bufs[6][4096];
    static int k;
    k = (k + 1) % 6;
    snprintf(bufs[k], sizeof bufs[k], "%s/%s", fx_dir, rel);
    return bufs[k];
}

/* Where the ball is in frame i of a synthetic video (video pixels). */
static void ball_at(uint32_t i, double *x, double *y)
{
    *x = 40.0 + 17.5 * i;
    *y = 30.0 + 9.25 * i;
}

/* A synthetic video of n frames at path: gradient background, white ball of radius 6. */
static void make_video(const char *path, uint32_t n)
{
    vbp_video_writer *w;
    vbp_error err;
    if (vbp_video_writer_open(path, VW, VH, 25, 1, &w, &err))
        fail_msg("%s", err.detail);
    uint8_t *rgb = malloc(3 * VW * VH);
    for (uint32_t i = 0; i < n; i++) {
        double bx, by;
        ball_at(i, &bx, &by);
        for (uint32_t y = 0; y < VH; y++)
            for (uint32_t x = 0; x < VW; x++) {
                size_t p = (size_t)y * VW + x;
                int ball = (x - bx) * (x - bx) + (y - by) * (y - by) <= 36.0;
                rgb[p] = ball ? 255 : (uint8_t)(x / 4);
                rgb[VW * VH + p] = ball ? 255 : (uint8_t)(y / 2);
                rgb[2 * VW * VH + p] = ball ? 255 : 60;
            }
        if (vbp_video_writer_add(w, rgb, &err))
            fail_msg("%s", err.detail);
    }
    free(rgb);
    if (vbp_video_writer_finish(w, &err))
        fail_msg("%s", err.detail);
}

/* Labels of a synthetic video: fractions (Frame,Ball,x,y) or video pixels; rows n + extra. */
static void make_csv(const char *path, uint32_t n, int fractions, int extra)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, fractions ? "Frame,Ball,x,y\n" : "Frame,Visibility,X,Y\n");
    for (uint32_t i = 0; (int)i < (int)n + extra; i++) {
        double x, y;
        ball_at(i, &x, &y);
        if (i % 5 == 4)
            fprintf(f, "%u,0,-1,-1\n", i);
        else if (fractions)
            fprintf(f, "%u,1,%.6f,%.6f\n", i, x / VW, y / VH);
        else
            fprintf(f, "%u,1,%.3f,%.3f\n", i, x, y);
    }
    fclose(f);
}

/* Run a tool (env var `tool`) with args; exit status, stderr in *errtext (caller frees). */
static int run(const char *tool, char **errtext, ...)
{
    char *argv[64];
    int n = 0;
    argv[n++] = getenv(tool);
    assert_non_null(argv[0]);
    va_list ap;
    va_start(ap, errtext);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 62)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    int rc = fx_run(argv, at("stdout.txt"), at("stderr.txt"));
    *errtext = fx_read_all(at("stderr.txt"), NULL);
    return rc;
}

static void decode(void **s)
{
    (void)s;
    make_video(at("d.mp4"), 12);
    vbp_video_info info;
    vbp_error err;
    assert_int_equal(vbp_video_probe(at("d.mp4"), &info, &err), VBP_OK);
    assert_int_equal(info.width, VW);
    assert_int_equal(info.height, VH);
    assert_int_equal(info.fps_num, 25);
    assert_int_equal(info.fps_den, 1);
    assert_int_equal(info.frames, 12);
    assert_true(info.bytes > 1000);
    vbp_video *v;
    assert_int_equal(vbp_video_open(at("d.mp4"), 1, &v, &err), VBP_OK);
    uint8_t *gray = malloc(PW * PH), *rgb = malloc(3 * VW * VH);
    for (uint32_t i = 0; i < 12; i++) {
        assert_int_equal(vbp_video_read(v, PW, PH, 1, gray, rgb, &err), 1);
        /* the brightest pixel is on the ball, in both sizes */
        size_t best = 0, rbest = 0;
        for (size_t p = 0; p < PW * PH; p++)
            best = gray[p] > gray[best] ? p : best;
        for (size_t p = 0; p < VW * VH; p++)
            rbest = rgb[2 * VW * VH + p] + rgb[p] > rgb[2 * VW * VH + rbest] + rgb[rbest] ? p : rbest;
        double bx, by;
        ball_at(i, &bx, &by);
        assert_true(fabs((double)(best % PW) - bx * PW / VW) <= 3.0);
        assert_true(fabs((double)(best / PW) - by * PH / VH) <= 3.0);
        assert_true(fabs((double)(rbest % VW) - bx) <= 7.0 && fabs((double)(rbest / VW) - by) <= 7.0);
    }
    assert_int_equal(vbp_video_read(v, PW, PH, 1, gray, NULL, &err), 0);
    vbp_video_close(v);
    /* frames are only shrunk */
    assert_int_equal(vbp_video_open(at("d.mp4"), 0, &v, &err), VBP_OK);
    uint8_t *big = malloc(3 * 400 * 200);
    assert_int_equal(vbp_video_read(v, 400, 200, 3, big, NULL, &err), VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "video is 320x180, smaller than 400x200"));
    vbp_video_close(v);
    free(big);
    free(gray);
    free(rgb);
}

/* Both layouts: tracknetv3 (match m: two clips, fractions) and vballnet-video (pixels). */
static void make_roots(void)
{
    assert_int_equal(fx_mkdirs(at("v3/m")), 0);
    make_video(at("v3/m/clipA.mp4"), 12);
    make_csv(at("v3/m/clipA.csv"), 12, 1, 0);
    make_video(at("v3/m/clipB.mp4"), 7);
    make_csv(at("v3/m/clipB.csv"), 7, 1, 0);
    assert_int_equal(fx_write_text(at("v3/m/LICENSE"), "ignored\n"), 0);
    assert_int_equal(fx_mkdirs(at("vb/video")), 0);
    assert_int_equal(fx_mkdirs(at("vb/csv")), 0);
    make_video(at("vb/video/rally.mp4"), 9);
    make_csv(at("vb/csv/rally_ball.csv"), 9, 0, 0);
}

/* Every frame, heatmap and label of pack clip c against its video and labels. */
static void check_clip(vbp_pack *p, uint64_t c, const char *video, uint32_t n, int fractions)
{
    const vbp_clip *clip = vbp_pack_clip(p, c);
    assert_int_equal(clip->frame_count, n);
    assert_int_equal(clip->source.width, VW);
    assert_int_equal(clip->source.height, VH);
    assert_int_equal(clip->source.fps_num, 25);
    assert_int_equal(clip->source.fps_den, 1);
    vbp_video *v;
    vbp_error err;
    assert_int_equal(vbp_video_open(video, 1, &v, &err), VBP_OK);
    uint8_t want[PW * PH], got[PW * PH];
    vbp_heatmap_style style = { VBP_HEATMAP_GAUSSIAN, 3.0f, 3.0f };
    for (uint32_t i = 0; i < n; i++) {
        uint64_t f = clip->first_frame + i;
        vbp_record r;
        assert_int_equal(vbp_video_read(v, PW, PH, 1, want, NULL, &err), 1);
        assert_int_equal(vbp_pack_record(p, f, VBP_REC_FRAME, &r), VBP_OK);
        assert_int_equal(vbp_record_decode(&r, got, sizeof got, &err), VBP_OK);
        assert_memory_equal(want, got, sizeof got);
        vbp_label l = vbp_pack_label(p, f);
        double bx, by;
        ball_at(i, &bx, &by);
        if (i % 5 == 4) {
            assert_true(l.visibility == 0 && l.x == -1.0f && l.y == -1.0f);
        } else {
            /* fractions written with 6 decimals, pixels with 3 */
            double tol = fractions ? 1e-6 * PW + 1e-4 : 1e-3 * PW / VW + 1e-4;
            assert_int_equal(l.visibility, 1);
            assert_true(fabs(l.x - bx * PW / VW) <= tol && fabs(l.y - by * PH / VH) <= tol);
        }
        memset(want, 0, sizeof want);
        if (l.visibility == 1)
            vbp_heatmap_draw(want, PW, PH, l.x, l.y, &style);
        assert_int_equal(vbp_pack_record(p, f, VBP_REC_HEATMAP, &r), VBP_OK);
        assert_int_equal(vbp_record_decode(&r, got, sizeof got, &err), VBP_OK);
        assert_memory_equal(want, got, sizeof got);
    }
    vbp_video_close(v);
}

static void layouts(void **s)
{
    (void)s;
    make_roots();
    char *e;
    const char *out = at("v.vbp");
    assert_int_equal(run("VBP_VBPACK", &e, "--quiet", "--grayscale", "--size", "128x72", "--heatmap",
                         "gaussian", "--val", "rally", at("v3"), at("vb"), "-o", out, NULL), 0);
    free(e);
    vbp_pack *p;
    vbp_error err;
    assert_int_equal(vbp_pack_open(out, &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_verify(p, NULL, NULL, &err), VBP_OK);
    assert_int_equal(vbp_pack_get_info(p)->version_minor, 1);
    assert_int_equal(vbp_pack_get_info(p)->clip_count, 3);
    assert_string_equal(vbp_pack_clip(p, 0)->group, "m");
    assert_string_equal(vbp_pack_clip(p, 0)->name, "clipA");
    assert_string_equal(vbp_pack_clip(p, 1)->name, "clipB");
    assert_string_equal(vbp_pack_clip(p, 2)->group, "vb"); /* a match root: its folder's name */
    assert_string_equal(vbp_pack_clip(p, 2)->name, "rally");
    assert_int_equal(vbp_pack_clip(p, 2)->split, VBP_SPLIT_VAL);
    check_clip(p, 0, at("v3/m/clipA.mp4"), 12, 1);
    check_clip(p, 1, at("v3/m/clipB.mp4"), 7, 1);
    check_clip(p, 2, at("vb/video/rally.mp4"), 9, 0);
    vbp_pack_close(p);
    /* named layouts: right, and wrong (which finds no clips) */
    assert_int_equal(run("VBP_VBPACK", &e, "--quiet", "--size", "128x72", "--layout", "tracknetv3",
                         at("v3"), "-o", at("n.vbp"), NULL), 0);
    free(e);
    assert_int_equal(run("VBP_VBPACK", &e, "--size", "128x72", "--layout", "vballnet-video",
                         at("v3"), "-o", at("w.vbp"), NULL), 1);
    assert_non_null(strstr(e, "no clips (expected ROOT[/<match>]/video/<clip>.mp4"));
    free(e);
    assert_false(fx_exists(at("w.vbp")));
    /* the pack does not depend on the number of threads */
    assert_int_equal(run("VBP_VBPACK", &e, "--quiet", "--threads", "1", "--size", "128x72", at("v3"),
                         "-o", at("t1.vbp"), NULL), 0);
    free(e);
    assert_int_equal(run("VBP_VBPACK", &e, "--quiet", "--threads", "3", "--size", "128x72", at("v3"),
                         "-o", at("t3.vbp"), NULL), 0);
    free(e);
    size_t na, nb;
    char *a = fx_read_all(at("t1.vbp"), &na), *b = fx_read_all(at("t3.vbp"), &nb);
    assert_true(a && b && na == nb && !memcmp(a, b, na));
    free(a);
    free(b);
}

/* vbpack on root fails: exit 1, one line with `file` and `what`, no pack, no temporary file. */
static void refused(const char *root, const char *file_in, const char *what)
{
    char file[4096]; /* at()'s buffers are reused below */
    snprintf(file, sizeof file, "%s", file_in);
    assert_int_equal(fx_mkdirs(at("out")), 0);
    char *e;
    int rc = run("VBP_VBPACK", &e, "--size", "128x72", at(root), "-o", at("out/p.vbp"), NULL);
    assert_non_null(e);
    if (rc != 1 || !strstr(e, file) || !strstr(e, what) || strchr(e, '\n') != e + strlen(e) - 1)
        fail_msg("%s: exit %d, stderr '%s' (want '%s' and '%s')", root, rc, e, file, what);
    free(e);
    assert_int_equal(fx_entries(at("out")), 0);
}

static void bad_input(void **s)
{
    (void)s;
    assert_int_equal(fx_mkdirs(at("short")), 0);
    make_video(at("short/c.mp4"), 6);
    make_csv(at("short/c.csv"), 6, 1, -1);
    refused("short", at("short/c.csv"), "5 label rows for 6 frames in");
    make_csv(at("short/c.csv"), 6, 1, 1);
    refused("short", at("short/c.csv"), "7 label rows for 6 frames in");
    assert_int_equal(fx_write_text(at("short/c.csv"), "Frame,Ball,x,y\n0,1,0.1,0.1\n1,2,0.1,0.1\n"),
                     0);
    refused("short", at("short/c.csv:3:"), "Ball must be 0 or 1");
    assert_int_equal(unlink(at("short/c.csv")), 0);
    refused("short", at("short/c.csv"), "labels CSV missing");
    /* a video cut in half: its index lists frames the file no longer holds */
    assert_int_equal(fx_mkdirs(at("cut")), 0);
    make_video(at("cut/c.mp4"), 12);
    make_csv(at("cut/c.csv"), 12, 1, 0);
    size_t n;
    char *bytes = fx_read_all(at("cut/c.mp4"), &n);
    assert_int_equal(fx_write_file(at("cut/c.mp4"), bytes, n / 2), 0);
    free(bytes);
    refused("cut", at("cut/c.mp4"), "truncated");
    /* empty, and not a video at all */
    assert_int_equal(fx_write_file(at("cut/c.mp4"), "", 0), 0);
    refused("cut", at("cut/c.mp4"), "empty file");
    assert_int_equal(fx_write_text(at("cut/c.mp4"), "not a video\n"), 0);
    refused("cut", at("cut/c.mp4"), "cannot open video");
    /* a well-formed video of no frames (an MP4 of no frames keeps no video track) */
    make_video(at("cut/c.mp4"), 0);
    refused("cut", at("cut/c.mp4"), "no video stream");
}

static void track(void **s)
{
    (void)s;
    const char *src = getenv("VBP_SOURCE_DIR");
    assert_non_null(src);
    char weights[4096];
    snprintf(weights, sizeof weights, "%s/models/vballnet_fastv1_gray_seq3.safetensors", src);
    make_video(at("t.mp4"), 12);
    vbp_track_config cfg;
    vbp_track_config_default(&cfg);
    cfg.width = PW;
    cfg.height = PH;
    cfg.batch = 5; /* 10 windows: a full batch, then a short last one */
    cfg.overlay = at("t_overlay.mkv");
    vbp_track_result r;
    vbp_error err;
    if (vbp_track_run(at("t.mp4"), weights, at("t.csv"), &cfg, &r, &err))
        fail_msg("%s", err.detail);
    assert_int_equal(r.frames, 12);
    assert_true(r.video_width == VW && r.video_height == VH && r.fps_num == 25 && r.fps_den == 1);
    char *csv = fx_read_all(at("t.csv"), NULL);
    assert_non_null(csv);
    assert_int_equal(strncmp(csv, "Frame,Visibility,X,Y\n0,", 23), 0);
    int rows = 0, visible = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int f, vis, x, y;
        assert_int_equal(sscanf(line + 1, "%d,%d,%d,%d", &f, &vis, &x, &y), 4);
        assert_int_equal(f, rows++);
        visible += vis;
        if (vis) /* in the video's pixels */
            assert_true(x >= 0 && x < (int)VW && y >= 0 && y < (int)VH);
        else
            assert_true(x == -1 && y == -1);
    }
    assert_int_equal(rows, 12);
    assert_int_equal((uint64_t)visible, r.visible);
    free(csv);
    vbp_video_info info;
    assert_int_equal(vbp_video_probe(at("t_overlay.mkv"), &info, &err), VBP_OK);
    if (info.frames != 12 || info.width != VW || info.height != VH)
        fail_msg("overlay: %llu frames of %ux%u", (unsigned long long)info.frames, info.width,
                 info.height);
    /* videos it cannot use: nothing written */
    cfg.overlay = NULL;
    make_video(at("two.mp4"), 2);
    assert_int_equal(vbp_track_run(at("two.mp4"), weights, at("x.csv"), &cfg, &r, &err),
                     VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "2 frames, fewer than the 3 of the model's windows"));
    cfg.width = 512;
    cfg.height = 288;
    assert_int_equal(vbp_track_run(at("t.mp4"), weights, at("x.csv"), &cfg, &r, &err),
                     VBP_E_GEOMETRY);
    assert_non_null(strstr(err.detail, "video is 320x180, smaller than the network's 512x288"));
    assert_int_equal(fx_write_file(at("empty.mp4"), "", 0), 0);
    assert_int_equal(vbp_track_run(at("empty.mp4"), weights, at("x.csv"), &cfg, &r, &err),
                     VBP_E_INPUT);
    assert_non_null(strstr(err.detail, "empty.mp4: empty file"));
    make_video(at("none.mp4"), 0); /* no frames: an MP4 keeps no video track */
    assert_int_equal(vbp_track_run(at("none.mp4"), weights, at("x.csv"), &cfg, &r, &err),
                     VBP_E_INPUT);
    if (!strstr(err.detail, "none.mp4: no video stream"))
        fail_msg("%s", err.detail);
    assert_false(fx_exists(at("x.csv")));
}

int main(void)
{
    if (!vbp_video_available()) {
        printf("SKIPPED: test_video: this build has no FFmpeg (meson -Dffmpeg=disabled)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode),
        cmocka_unit_test(layouts),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(track),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

/*
 * test_vbpack.c - the packer: every bad input gives one line naming the file,
 * a non-zero exit and nothing at the target; output is independent of the
 * thread count; SIGTERM aborts cleanly; the real clips round-trip exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "input_fixture.h"
#include "labels_csv.h"
#include "vbp_image.h"
#include "vbp_build.h"

static const char *real(const char *sub);

static const char *at(const char *rel)
{
    static char bufs[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(bufs[k], sizeof bufs[k], "%s/%s", fx_dir, rel);
    return bufs[k];
}

/* A TrackNetV4 clip root/<match>/{inputs,heatmaps}/<clip> with its CSV: n frames of 32x16. */
static void tn_clip(const char *root, const char *match, const char *clip, uint32_t n)
{
    char f[4096], h[4096], c[4096];
    snprintf(f, sizeof f, "%s/%s/inputs/%s", at(root), match, clip);
    snprintf(h, sizeof h, "%s/%s/heatmaps/%s", at(root), match, clip);
    snprintf(c, sizeof c, "%s/%s/csv", at(root), match);
    assert_int_equal(fx_mkdirs(c), 0);
    snprintf(c, sizeof c, "%s/%s/csv/%s_ball.csv", at(root), match, clip);
    assert_int_equal(fx_make_clip(f, h, c, n, 32, 16, 3), 0);
}

/* A 32x16 TrackNetV4 dataset root/m/{inputs,heatmaps,csv} with one clip of n frames. */
static void small_tn(const char *root, uint32_t n)
{
    tn_clip(root, "m", "c", n);
}

/*
 * Run vbpack with args (NULL-terminated) plus "-o OUT"; returns the exit
 * status and the stderr text in *errtext (caller frees).
 */
static int vbpack(const char *out, char **errtext, ...)
{
    char *argv[64];
    int n = 0;
    argv[n++] = getenv("VBP_VBPACK");
    assert_non_null(argv[0]);
    va_list ap;
    va_start(ap, errtext);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 60)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n++] = "-o";
    argv[n++] = (char *)out;
    argv[n] = NULL;
    char o[4096], e[4096];
    snprintf(o, sizeof o, "%s/stdout.txt", fx_dir);
    snprintf(e, sizeof e, "%s/stderr.txt", fx_dir);
    int rc = fx_run(argv, o, e);
    *errtext = fx_read_all(e, NULL);
    return rc;
}

/* vbpack on root fails: exit 1, one stderr line containing `file` and `what`, no pack, no temp. */
static void expect_failure(const char *root, const char *file, const char *what, const char *opt)
{
    assert_int_equal(fx_mkdirs(at("out")), 0);
    const char *out = at("out/p.vbp");
    char *err;
    int rc = opt ? vbpack(out, &err, "--size", "32x16", opt, at(root), NULL)
                 : vbpack(out, &err, "--size", "32x16", at(root), NULL);
    assert_non_null(err);
    if (rc != 1 || !strstr(err, file) || !strstr(err, what) || strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("%s: exit %d, stderr '%s' (want '%s' and '%s')", root, rc, err, file, what);
    free(err);
    assert_false(fx_exists(out));
    assert_int_equal(fx_entries(at("out")), 0); /* no temporary file left either */
}

static void bad_inputs(void **s)
{
    (void)s;
    /* corrupt PNG: a truncated frame */
    small_tn("corrupt", 3);
    assert_int_equal(truncate(at("corrupt/m/inputs/c/1.png"), 60), 0);
    expect_failure("corrupt", at("corrupt/m/inputs/c/1.png"), ": corrupt PNG (libpng: ", NULL);
    /* unreadable PNG: a dangling symlink where a frame should be */
    small_tn("unreadable", 3);
    assert_int_equal(unlink(at("unreadable/m/inputs/c/2.png")), 0);
    assert_int_equal(symlink("nowhere.png", at("unreadable/m/inputs/c/2.png")), 0);
    expect_failure("unreadable", at("unreadable/m/inputs/c/2.png"), ": cannot open", NULL);
    /* frame size differs from the geometry: both sizes stated */
    small_tn("size", 2);
    uint8_t px[3 * 40 * 16] = {0};
    assert_int_equal(fx_png_write(at("size/m/inputs/c/1.png"), px, 40, 16, 3), 0);
    expect_failure("size", at("size/m/inputs/c/1.png"), ": 40x16, pack geometry is 32x16", NULL);
    /* gap in frame numbers */
    small_tn("gap", 4);
    assert_int_equal(unlink(at("gap/m/inputs/c/2.png")), 0);
    assert_int_equal(unlink(at("gap/m/heatmaps/c/2.png")), 0);
    expect_failure("gap", at("gap/m/inputs/c"), "frame 2 is missing", NULL);
    /* heatmap count != frame count */
    small_tn("count", 4);
    assert_int_equal(unlink(at("count/m/heatmaps/c/3.png")), 0);
    expect_failure("count", at("count/m/heatmaps/c"), "3 heatmaps for 4 frames", NULL);
    /* a heatmap that is not one channel */
    small_tn("rgbheat", 2);
    assert_int_equal(fx_png_write(at("rgbheat/m/heatmaps/c/1.png"), px, 32, 16, 3), 0);
    expect_failure("rgbheat", at("rgbheat/m/heatmaps/c/1.png"), "heatmap has 3 channels", NULL);
    /* bad CSV row */
    small_tn("csv", 2);
    assert_int_equal(fx_write_text(at("csv/m/csv/c_ball.csv"), "Frame,Visibility,X,Y\n0,1,2,3\n1,7,2,3\n"), 0);
    expect_failure("csv", at("csv/m/csv/c_ball.csv:3:"), "Visibility must be 0 or 1", NULL);
    /* empty input */
    assert_int_equal(fx_mkdirs(at("empty")), 0);
    expect_failure("empty", at("empty"), "no clips", NULL);
}

static void bad_outputs(void **s)
{
    (void)s;
    small_tn("ok", 2);
    char *err;
    /* output directory does not exist */
    const char *out = at("no/such/dir/p.vbp");
    assert_int_equal(vbpack(out, &err, "--size", "32x16", at("ok"), NULL), 1);
    assert_non_null(strstr(err, at("no/such/dir/p.vbp")));
    free(err);
    assert_false(fx_exists(out));
    /* an existing target is kept unless --force */
    assert_int_equal(fx_mkdirs(at("out2")), 0);
    out = at("out2/p.vbp");
    assert_int_equal(fx_write_text(out, "keep me"), 0);
    assert_int_equal(vbpack(out, &err, "--quiet", "--size", "32x16", at("ok"), NULL), 1);
    assert_non_null(strstr(err, "--force"));
    free(err);
    char *kept = fx_read_all(out, NULL);
    assert_string_equal(kept, "keep me");
    free(kept);
    assert_int_equal(vbpack(out, &err, "--quiet", "--force", "--size", "32x16", at("ok"), NULL), 0);
    free(err);
    vbp_pack *p;
    vbp_error e;
    assert_int_equal(vbp_pack_open(out, &p, &e), VBP_OK);
    assert_int_equal(vbp_pack_get_info(p)->frame_count, 2);
    vbp_pack_close(p);
    /* usage errors exit 2; --help exits 0 */
    assert_int_equal(vbpack(at("x.vbp"), &err, "--codec", "zip", at("ok"), NULL), 2);
    free(err);
    assert_int_equal(vbpack(at("x.vbp"), &err, "--help", NULL), 0);
    free(err);
    assert_false(fx_exists(at("x.vbp")));
}

/* Files a and b are identical and over 1 MB. */
static void same_big_files(const char *a, const char *b)
{
    size_t na, nb;
    char *x = fx_read_all(a, &na), *y = fx_read_all(b, &nb);
    assert_true(na == nb && na > 1000000 && memcmp(x, y, na) == 0);
    free(x);
    free(y);
}

/* The same dataset with 1 and 3 threads gives byte-identical packs. */
static void threads_do_not_change_bytes(void **s)
{
    (void)s;
    const char *root = real("tracknetv4");
    char *err;
    const char *a = at("t1.vbp"), *b = at("t3.vbp");
    assert_int_equal(vbpack(a, &err, "--quiet", "--threads", "1", "--codec", "lz4", root, NULL), 0);
    free(err);
    assert_int_equal(vbpack(b, &err, "--json", "--threads", "3", "--codec", "lz4", root, NULL), 0);
    free(err);
    same_big_files(a, b);
    char *json = fx_read_all(at("stdout.txt"), NULL);
    assert_non_null(strstr(json, "\"clips\": 2, \"frames\": 112,"));
    assert_non_null(strstr(json, "\"codec\": \"lz4\""));
    free(json);
}

/* Same for raw gray packs (the workers convert to gray and checksum; the writer only writes). */
static void threads_do_not_change_raw_gray(void **s)
{
    (void)s;
    const char *root = real("tracknetv4");
    char *err;
    const char *a = at("g1.vbp"), *b = at("g3.vbp");
    assert_int_equal(vbpack(a, &err, "--quiet", "--threads", "1", "--grayscale", root, NULL), 0);
    free(err);
    assert_int_equal(vbpack(b, &err, "--quiet", "--threads", "3", "--grayscale", root, NULL), 0);
    free(err);
    same_big_files(a, b);
    unlink(a);
    unlink(b);
}

/* Splits from --val-root/--test-root and --test; one clip read twice is an error. */
static void splits_and_roots(void **s)
{
    (void)s;
    char tn[4096], vb[4096], *err;
    snprintf(tn, sizeof tn, "%s", real("tracknetv4"));
    snprintf(vb, sizeof vb, "%s", real("vballnet"));
    const char *out = at("splits.vbp");
    assert_int_equal(vbpack(out, &err, "--json", "--quiet", "--grayscale", "--val",
                            "match_volleyball", tn, "--test-root", vb, NULL), 0);
    free(err);
    char *json = fx_read_all(at("stdout.txt"), NULL);
    assert_non_null(strstr(json, "\"frames_per_split\": {\"train\": 91, \"val\": 21, \"test\": 21}"));
    free(json);
    vbp_pack *p;
    vbp_error e;
    assert_int_equal(vbp_pack_open(out, &p, &e), VBP_OK);
    assert_int_equal(vbp_pack_get_info(p)->clip_count, 3);
    /* roots in order (train roots, then test roots); matches sorted by name */
    assert_string_equal(vbp_pack_clip(p, 0)->group, "match_badminton");
    assert_int_equal(vbp_pack_clip(p, 0)->split, VBP_SPLIT_TRAIN);
    assert_string_equal(vbp_pack_clip(p, 1)->group, "match_volleyball");
    assert_int_equal(vbp_pack_clip(p, 1)->split, VBP_SPLIT_VAL);
    assert_string_equal(vbp_pack_clip(p, 2)->group, "");
    assert_int_equal(vbp_pack_clip(p, 2)->split, VBP_SPLIT_TEST);
    vbp_pack_close(p);
    /* a name may not move a clip out of the split its root gave it (a usage error) */
    assert_int_equal(vbpack(at("conflict.vbp"), &err, "--val", "/VolleyballShortClip", tn,
                            "--test-root", vb, NULL), 2);
    assert_string_equal(err, "vbpack: --val /VolleyballShortClip: clip 'VolleyballShortClip' is "
                             "already in the test split\n");
    free(err);
    /* the same bare name in a match of one root and at the top of the other */
    assert_int_equal(vbpack(at("conflict.vbp"), &err, "--val", "VolleyballShortClip", tn,
                            "--test-root", vb, NULL), 2);
    assert_string_equal(err, "vbpack: --val: 'VolleyballShortClip' is ambiguous: "
                             "match_volleyball/VolleyballShortClip, /VolleyballShortClip "
                             "(name one of them)\n");
    free(err);
    assert_false(fx_exists(at("conflict.vbp")));
    assert_int_equal(vbpack(at("twice.vbp"), &err, tn, tn, NULL), 1);
    assert_non_null(strstr(err, "was already read from"));
    free(err);
    assert_false(fx_exists(at("twice.vbp")));
}

/* vbpack with args on root into out; returns the exit status, *errtext the stderr (caller frees). */
static int vbpack_names(const char *out, char **errtext, const char *opt, const char *name,
                        const char *opt2, const char *name2, const char *root)
{
    return opt2 ? vbpack(out, errtext, "--quiet", "--size", "32x16", opt, name, opt2, name2, at(root), NULL)
                : vbpack(out, errtext, "--quiet", "--size", "32x16", opt, name, at(root), NULL);
}

/* The splits of the pack at path, clip by clip in pack order, as "group/name:split ...". */
static void pack_splits(const char *path, char *buf, size_t cap)
{
    vbp_pack *p;
    vbp_error e;
    assert_int_equal(vbp_pack_open(path, &p, &e), VBP_OK);
    size_t len = 0;
    buf[0] = '\0';
    for (uint64_t i = 0; i < vbp_pack_get_info(p)->clip_count; i++) {
        const vbp_clip *c = vbp_pack_clip(p, i);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s/%s:%s", i ? " " : "", c->group, c->name,
                                vbp_split_name(c->split));
    }
    vbp_pack_close(p);
}

/* vbpack_names succeeds and leaves the pack at out. */
static void expect_packed(const char *out, const char *opt, const char *name, const char *opt2,
                          const char *name2, const char *root)
{
    char *err;
    int rc = vbpack_names(out, &err, opt, name, opt2, name2, root);
    if (rc != 0)
        fail_msg("%s %s: exit %d, stderr '%s'", opt, name, rc, err ? err : "");
    free(err);
}

/* Usage error (exit 2), exactly `want` on stderr, no pack and no temporary file. */
static void expect_name_error(const char *opt, const char *name, const char *root, const char *want)
{
    assert_int_equal(fx_mkdirs(at("nout")), 0);
    char *err;
    int rc = vbpack_names(at("nout/p.vbp"), &err, opt, name, NULL, NULL, root);
    assert_non_null(err);
    if (rc != 2 || strcmp(err, want))
        fail_msg("%s %s: exit %d, stderr '%s' (want 2, '%s')", opt, name, rc, err, want);
    free(err);
    assert_int_equal(fx_entries(at("nout")), 0);
}

/*
 * Split names (vbp_names.h, issue 24): matchA/{clip1,clip2} and matchB/{clip1,clip2}.  A bare
 * clip name of two matches, or a name that is both a clip and a match, is a usage error naming
 * every candidate, and nothing is written; the qualified forms pick exactly what they name.
 */
static void split_names(void **s)
{
    (void)s;
    tn_clip("ab", "matchA", "clip1", 2);
    tn_clip("ab", "matchA", "clip2", 2);
    tn_clip("ab", "matchB", "clip1", 2);
    tn_clip("ab", "matchB", "clip2", 3);
    expect_name_error("--val", "clip2", "ab", "vbpack: --val: 'clip2' is ambiguous: matchA/clip2, "
                                              "matchB/clip2 (name one of them)\n");
    expect_name_error("--test", "clip1", "ab", "vbpack: --test: 'clip1' is ambiguous: matchA/clip1, "
                                               "matchB/clip1 (name one of them)\n");
    expect_name_error("--val", "nosuchclip", "ab", "vbpack: --val: no clip or match is named "
                                                   "'nosuchclip'\n");
    expect_name_error("--val", "/clip2", "ab", "vbpack: --val: no clip or match is named '/clip2'\n");
    expect_name_error("--val", "matchA/clip3", "ab", "vbpack: --val: no clip or match is named "
                                                     "'matchA/clip3'\n");
    /* quoted names are escaped: an ESC typed by the user does not reach the terminal either */
    expect_name_error("--val", "cl\x1b[2Jip", "ab", "vbpack: --val: no clip or match is named "
                                                    "'cl\\x1b[2Jip'\n");
    char got[512], out[4096];
    snprintf(out, sizeof out, "%s", at("ab.vbp"));
    expect_packed(out, "--val", "matchA/clip2", NULL, NULL, "ab");
    pack_splits(out, got, sizeof got);
    assert_string_equal(got, "matchA/clip1:train matchA/clip2:val matchB/clip1:train matchB/clip2:train");
    unlink(out);
    expect_packed(out, "--val", "matchB/", "--test", "matchA/clip1", "ab");
    pack_splits(out, got, sizeof got);
    assert_string_equal(got, "matchA/clip1:test matchA/clip2:train matchB/clip1:val matchB/clip2:val");
    unlink(out);
    expect_packed(out, "--test", "matchB", NULL, NULL, "ab");
    pack_splits(out, got, sizeof got);
    assert_string_equal(got, "matchA/clip1:train matchA/clip2:train matchB/clip1:test matchB/clip2:test");
    unlink(out);
    /* a name that is a match and a clip of another match */
    tn_clip("foo", "bar", "foo", 2);
    tn_clip("foo", "foo", "c1", 2);
    expect_name_error("--val", "foo", "foo", "vbpack: --val: 'foo' is ambiguous: bar/foo, "
                                             "foo/ (match of 1 clip) (name one of them)\n");
    expect_packed(out, "--val", "foo/", "--test", "bar/foo", "foo");
    pack_splits(out, got, sizeof got);
    assert_string_equal(got, "bar/foo:test foo/c1:val");
    unlink(out);
}

/* SIGTERM while a worker is blocked on a frame (a FIFO): exit 130, nothing left behind. */
static void sigterm_aborts(void **s)
{
    (void)s;
    small_tn("fifo", 3);
    assert_int_equal(unlink(at("fifo/m/inputs/c/2.png")), 0);
    assert_int_equal(mkfifo(at("fifo/m/inputs/c/2.png"), 0644), 0);
    assert_int_equal(fx_mkdirs(at("out3")), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        execl(getenv("VBP_VBPACK"), "vbpack", "--threads", "1", "--size", "32x16", at("fifo"),
              "-o", at("out3/p.vbp"), (char *)NULL);
        _exit(127);
    }
    /* wait until the temporary pack exists: the writer is open, decoding has begun */
    for (int i = 0; i < 1000 && fx_entries(at("out3")) == 0; i++)
        usleep(10000);
    assert_int_equal(fx_entries(at("out3")), 1);
    usleep(100000);
    assert_int_equal(kill(pid, SIGTERM), 0);
    usleep(200000);
    int fd = open(at("fifo/m/inputs/c/2.png"), O_WRONLY); /* release the blocked worker */
    if (fd >= 0)
        close(fd);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    assert_int_equal(fx_entries(at("out3")), 0);
}

/* Pack `root` with the library and compare every record with its source. */
static void roundtrip(const char *root, uint32_t channels, vbp_codec codec, int drawn,
                      vbp_heatmap_kind kind)
{
    vbp_build_source src = {root, VBP_SPLIT_TRAIN};
    vbp_build_opts o;
    vbp_build_opts_init(&o);
    o.sources = &src;
    o.source_count = 1;
    o.frame_channels = channels;
    o.codec = codec;
    o.threads = 2;
    o.overwrite = 1;
    o.heatmap = kind;
    o.sigma = 2.5f;
    const char *names[] = {"VolleyballShortClip"};
    o.val_names = names;
    o.val_count = 1;
    const char *out = at("rt.vbp");
    vbp_build_stats st;
    vbp_error e;
    if (vbp_build_pack(out, &o, &st, &e) != VBP_OK)
        fail_msg("%s", e.detail);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(out, &p, &e), VBP_OK);
    const vbp_pack_info *info = vbp_pack_get_info(p);
    assert_int_equal(info->geometry.frame_channels, channels);
    assert_int_equal(info->frame_count, st.frames);
    assert_int_equal(info->clip_count, st.clips);
    size_t plane = 512 * 288;
    uint8_t *want = malloc(3 * plane), *got = malloc(3 * plane);
    char path[8192];
    uint64_t checked = 0;
    for (uint64_t c = 0; c < info->clip_count; c++) {
        const vbp_clip *clip = vbp_pack_clip(p, c);
        assert_int_equal(clip->split, strcmp(clip->name, "VolleyballShortClip") ? VBP_SPLIT_TRAIN
                                                                                : VBP_SPLIT_VAL);
        char frame_dir[4096], heat_dir[4096], csv[4096];
        if (drawn) {
            snprintf(frame_dir, sizeof frame_dir, "%s/%s", root, clip->name);
            snprintf(csv, sizeof csv, "%s/%s_ball.csv", root, clip->name);
        } else {
            snprintf(frame_dir, sizeof frame_dir, "%s/%s/inputs/%s", root, clip->group, clip->name);
            snprintf(heat_dir, sizeof heat_dir, "%s/%s/heatmaps/%s", root, clip->group, clip->name);
            snprintf(csv, sizeof csv, "%s/%s/csv/%s_ball.csv", root, clip->group, clip->name);
        }
        vbp_label *labels;
        size_t nl;
        assert_int_equal(vbp_labels_read_csv(csv, &labels, &nl, &e), VBP_OK);
        assert_int_equal(nl, clip->frame_count);
        for (uint64_t i = 0; i < clip->frame_count; i++) {
            uint64_t f = clip->first_frame + i;
            vbp_record r;
            snprintf(path, sizeof path, "%s/%llu.png", frame_dir, (unsigned long long)i);
            assert_int_equal(vbp_png_read_planar(path, 512, 288, channels, want, 3 * plane, &e), VBP_OK);
            assert_int_equal(vbp_pack_record(p, f, VBP_REC_FRAME, &r), VBP_OK);
            assert_int_equal(r.raw_size, channels * plane);
            assert_int_equal(vbp_record_decode(&r, got, 3 * plane, &e), VBP_OK);
            if (memcmp(want, got, channels * plane))
                fail_msg("%s frame %llu differs", clip->name, (unsigned long long)i);
            memset(want, 0, plane);
            if (drawn) {
                vbp_heatmap_style style = {kind == VBP_HEATMAP_KIND_DISC ? VBP_HEATMAP_DISC
                                                                         : VBP_HEATMAP_GAUSSIAN,
                                           3.0f, 2.5f};
                if (labels[i].visibility == 1)
                    vbp_heatmap_draw(want, 512, 288, labels[i].x, labels[i].y, &style);
            } else {
                snprintf(path, sizeof path, "%s/%llu.png", heat_dir, (unsigned long long)i);
                assert_int_equal(vbp_png_read_planar(path, 512, 288, 1, want, plane, &e), VBP_OK);
            }
            assert_int_equal(vbp_pack_record(p, f, VBP_REC_HEATMAP, &r), VBP_OK);
            assert_int_equal(vbp_record_decode(&r, got, 3 * plane, &e), VBP_OK);
            if (memcmp(want, got, plane))
                fail_msg("%s heatmap %llu differs", clip->name, (unsigned long long)i);
            vbp_label l = vbp_pack_label(p, f);
            assert_int_equal(l.visibility, labels[i].visibility);
            assert_true(l.x == labels[i].x && l.y == labels[i].y);
            checked++;
        }
        free(labels);
    }
    assert_int_equal(checked, drawn ? 21 : 112);
    free(want);
    free(got);
    vbp_pack_close(p);
}

static const char *real(const char *sub)
{
    static char buf[4096];
    const char *r = getenv("VBP_REAL_DATA");
    assert_non_null(r);
    snprintf(buf, sizeof buf, "%s/%s", r, sub);
    return buf;
}

static void roundtrip_tracknetv4(void **s)
{
    (void)s;
    roundtrip(real("tracknetv4"), 3, VBP_CODEC_RAW, 0, VBP_HEATMAP_KIND_DISC);
    roundtrip(real("tracknetv4"), 1, VBP_CODEC_LZ4, 0, VBP_HEATMAP_KIND_DISC);
}

static void roundtrip_vballnet(void **s)
{
    (void)s;
    roundtrip(real("vballnet"), 1, VBP_CODEC_RAW, 1, VBP_HEATMAP_KIND_DISC);
    roundtrip(real("vballnet"), 3, VBP_CODEC_LZ4, 1, VBP_HEATMAP_KIND_DISC);
    roundtrip(real("vballnet"), 1, VBP_CODEC_RAW, 1, VBP_HEATMAP_KIND_GAUSSIAN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_inputs),
        cmocka_unit_test(bad_outputs),
        cmocka_unit_test(threads_do_not_change_bytes),
        cmocka_unit_test(threads_do_not_change_raw_gray),
        cmocka_unit_test(splits_and_roots),
        cmocka_unit_test(split_names),
        cmocka_unit_test(sigterm_aborts),
        cmocka_unit_test(roundtrip_tracknetv4),
        cmocka_unit_test(roundtrip_vballnet),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

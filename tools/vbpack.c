/*
 * vbpack - compile preprocessed frame/heatmap directories into one pack.
 * A thin wrapper over vbp_build_pack (include/vbp_build.h); docs/packing.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vbp_build.h"
#include "vbp_util.h"
#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void report_stale(void *ctx, const char *tmp_path)
{
    (void)ctx;
    fprintf(stderr, "vbpack: removed %s, left by an interrupted run\n", tmp_path);
}

static int usage(FILE *f)
{
    fprintf(f,
        "usage: vbpack [options] ROOT... -o OUT.vbp\n"
        "Pack frame/heatmap directories (TrackNetV4 or VballNet layout) into one file.\n"
        "  -o, --output PATH      pack to write (atomically: nothing appears on failure)\n"
        "      --rgb              store frames as RGB, 3 planes (default)\n"
        "      --grayscale        store frames as 1 plane, OpenCV RGB2GRAY\n"
        "      --codec raw|lz4    record codec (default raw: zero-copy reads)\n"
        "      --layout auto|tracknetv4|vballnet   input layout (default auto)\n"
        "      --heatmap disc|gaussian   heatmaps drawn from labels, vballnet layout (default disc)\n"
        "      --radius R         disc radius in pixels (default 3)\n"
        "      --sigma S          Gaussian sigma in pixels (default 3)\n"
        "      --size WxH         geometry every frame must have (default 512x288)\n"
        "      --val NAME         put clip or match NAME in the val split (repeatable)\n"
        "      --test NAME        put clip or match NAME in the test split (repeatable)\n"
        "                         NAME: match/clip, /clip (a clip of no match), match/ (all its\n"
        "                         clips), or a bare name that one clip or one match has alone\n"
        "      --val-root ROOT    every clip under ROOT goes to val (repeatable)\n"
        "      --test-root ROOT   every clip under ROOT goes to test (repeatable)\n"
        "      --threads N        decoding threads (default: all online cores)\n"
        "      --force            replace an existing pack\n"
        "      --json             print the summary as JSON on stdout\n"
        "      --quiet            no progress bar, no summary\n"
        "  -h, --help             this help\n"
        "Everything not named by --val/--test/--val-root/--test-root is train.  A name that\n"
        "fits no clip, or several (clip2 of two matches, a clip and a match), is an error\n"
        "listing them.  Exit status: 0 ok, 1 error, 2 usage (options and names),\n"
        "130 interrupted.\n");
    return f == stdout ? 0 : 2;
}

static void draw_progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_bar_draw(ctx, "vbpack", done, total, NULL);
}

static int push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[(*n)++] = s;
    *v = nv;
    return 0;
}

static int push_source(vbp_build_source **v, size_t *n, const char *root, vbp_split split)
{
    vbp_build_source *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    nv[*n].root = root;
    nv[*n].split = split;
    (*n)++;
    *v = nv;
    return 0;
}

static void print_json(const char *out, const vbp_build_opts *o, const vbp_build_stats *s)
{
    static const char *const split[3] = {"train", "val", "test"};
    vbp_json j;
    vbp_json_init(&j, 1);
    vbp_json_begin_object(&j);
    vbp_json_kstring(&j, "pack", out);
    vbp_json_ku64(&j, "clips", s->clips);
    vbp_json_ku64(&j, "frames", s->frames);
    vbp_json_ku64(&j, "labelled_clips", s->labelled_clips);
    for (int k = 0; k < 2; k++) {
        vbp_json_key(&j, k ? "clips_per_split" : "frames_per_split");
        vbp_json_begin_object(&j);
        for (int i = 0; i < 3; i++)
            vbp_json_ku64(&j, split[i], k ? s->clips_per_split[i] : s->frames_per_split[i]);
        vbp_json_end_object(&j);
    }
    vbp_json_ku64(&j, "width", o->width);
    vbp_json_ku64(&j, "height", o->height);
    vbp_json_ku64(&j, "channels", o->frame_channels);
    vbp_json_kstring(&j, "codec", vbp_codec_name(o->codec));
    vbp_json_ku64(&j, "input_bytes", s->input_bytes);
    vbp_json_ku64(&j, "pixel_bytes", s->pixel_bytes);
    vbp_json_ku64(&j, "pack_bytes", s->pack_bytes);
    vbp_json_ku64(&j, "threads", s->threads);
    vbp_json_kdouble(&j, "seconds", s->seconds, 6);
    vbp_json_end_object(&j);
    vbp_json_print(&j, stdout);
}

enum {
    OPT_RGB = 256, OPT_GRAY, OPT_CODEC, OPT_LAYOUT, OPT_HEATMAP, OPT_RADIUS, OPT_SIGMA, OPT_SIZE,
    OPT_VAL, OPT_TEST, OPT_VAL_ROOT, OPT_TEST_ROOT, OPT_THREADS, OPT_FORCE, OPT_JSON, OPT_QUIET
};

static int parse_float(const char *s, float *out)
{
    char *e;
    double v = strtod(s, &e);
    if (*s == '\0' || *e != '\0' || !(v > 0.0 && v < 1000.0))
        return -1;
    *out = (float)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"rgb", no_argument, 0, OPT_RGB},
        {"grayscale", no_argument, 0, OPT_GRAY}, {"codec", required_argument, 0, OPT_CODEC},
        {"layout", required_argument, 0, OPT_LAYOUT},
        {"heatmap", required_argument, 0, OPT_HEATMAP},
        {"radius", required_argument, 0, OPT_RADIUS}, {"sigma", required_argument, 0, OPT_SIGMA},
        {"size", required_argument, 0, OPT_SIZE}, {"val", required_argument, 0, OPT_VAL},
        {"test", required_argument, 0, OPT_TEST}, {"val-root", required_argument, 0, OPT_VAL_ROOT},
        {"test-root", required_argument, 0, OPT_TEST_ROOT},
        {"threads", required_argument, 0, OPT_THREADS}, {"force", no_argument, 0, OPT_FORCE},
        {"json", no_argument, 0, OPT_JSON}, {"quiet", no_argument, 0, OPT_QUIET},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    vbp_build_opts o;
    vbp_build_opts_init(&o);
    vbp_build_source *sources = NULL, *extra = NULL;
    size_t nsources = 0, nextra = 0;
    const char **val = NULL, **test = NULL;
    const char *out = NULL;
    int json = 0, quiet = 0, c, bad = 0;
    unsigned w, h;
    char tail;
    while (!bad && (c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': return usage(stdout);
        case OPT_RGB: o.frame_channels = 3; break;
        case OPT_GRAY: o.frame_channels = 1; break;
        case OPT_CODEC:
            if (!strcmp(optarg, "raw")) o.codec = VBP_CODEC_RAW;
            else if (!strcmp(optarg, "lz4")) o.codec = VBP_CODEC_LZ4;
            else bad = fprintf(stderr, "vbpack: --codec must be raw or lz4, not '%s'\n", optarg);
            break;
        case OPT_LAYOUT:
            if (vbp_layout_parse(optarg, &o.layout) != VBP_OK)
                bad = fprintf(stderr, "vbpack: --layout must be auto, tracknetv4 or vballnet\n");
            break;
        case OPT_HEATMAP:
            if (!strcmp(optarg, "disc")) o.heatmap = VBP_HEATMAP_KIND_DISC;
            else if (!strcmp(optarg, "gaussian")) o.heatmap = VBP_HEATMAP_KIND_GAUSSIAN;
            else bad = fprintf(stderr, "vbpack: --heatmap must be disc or gaussian\n");
            break;
        case OPT_RADIUS:
            if (parse_float(optarg, &o.radius))
                bad = fprintf(stderr, "vbpack: --radius must be a number in (0, 1000)\n");
            break;
        case OPT_SIGMA:
            if (parse_float(optarg, &o.sigma))
                bad = fprintf(stderr, "vbpack: --sigma must be a number in (0, 1000)\n");
            break;
        case OPT_SIZE:
            if (sscanf(optarg, "%ux%u%c", &w, &h, &tail) != 2 || !w || !h || w > 16384 || h > 16384)
                bad = fprintf(stderr, "vbpack: --size must be WxH, e.g. 512x288\n");
            o.width = w;
            o.height = h;
            break;
        case OPT_VAL: bad = push(&val, &o.val_count, optarg); break;
        case OPT_TEST: bad = push(&test, &o.test_count, optarg); break;
        case OPT_VAL_ROOT: bad = push_source(&extra, &nextra, optarg, VBP_SPLIT_VAL); break;
        case OPT_TEST_ROOT: bad = push_source(&extra, &nextra, optarg, VBP_SPLIT_TEST); break;
        case OPT_THREADS: {
            char *e;
            long t = strtol(optarg, &e, 10);
            if (*optarg == '\0' || *e || t < 1 || t > 256)
                bad = fprintf(stderr, "vbpack: --threads must be 1..256\n");
            o.threads = (unsigned)t;
            break;
        }
        case OPT_FORCE: o.overwrite = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_QUIET: quiet = 1; break;
        default: bad = 1; break;
        }
    }
    if (!bad && !out)
        bad = fprintf(stderr, "vbpack: no output given (-o OUT.vbp)\n");
    for (int i = optind; !bad && i < argc; i++)
        bad = push_source(&sources, &nsources, argv[i], VBP_SPLIT_TRAIN);
    for (size_t i = 0; !bad && i < nextra; i++)
        bad = push_source(&sources, &nsources, extra[i].root, extra[i].split);
    if (!bad && nsources == 0)
        bad = fprintf(stderr, "vbpack: no input ROOT given\n");
    int rc = 2;
    if (bad) {
        usage(stderr);
        goto done;
    }
    o.sources = sources;
    o.source_count = nsources;
    o.val_names = val;
    o.test_names = test;
    cli_bar bar;
    cli_bar_init(&bar, !quiet, "frames");
    if (bar.on) {
        o.progress = draw_progress;
        o.progress_ctx = &bar;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    o.cancel = &interrupted;

    /* Beyond RLIMIT_FSIZE a write must fail with EFBIG (reported), not kill us. */
    signal(SIGXFSZ, SIG_IGN);

    vbp_build_stats st;
    vbp_error err;
    if (vbp_writer_remove_stale(out, report_stale, NULL, &err) < 0)
        fprintf(stderr, "vbpack: warning: %s\n", vbp_error_message(&err));
    int r = vbp_build_pack(out, &o, &st, &err);
    cli_bar_clear(&bar);
    if (r != VBP_OK) {
        fprintf(stderr, "vbpack: %s\n", vbp_error_message(&err));
        /* VBP_E_ARG: the options or names given do not fit the data (usage) */
        rc = r == VBP_E_INTERRUPTED ? 130 : r == VBP_E_ARG ? 2 : 1;
        goto done;
    }
    rc = 0;
    if (json)
        print_json(out, &o, &st);
    if (!quiet) {
        double mb = (double)st.pixel_bytes / 1e6;
        fprintf(stderr, "vbpack: %s: %llu clips (%llu train, %llu val, %llu test), %llu frames, "
                "%.1f MB pixels -> %.1f MB pack, %.2f s, %.0f frames/s, %.1f MB/s, %u threads\n",
                out, (unsigned long long)st.clips, (unsigned long long)st.clips_per_split[0],
                (unsigned long long)st.clips_per_split[1], (unsigned long long)st.clips_per_split[2],
                (unsigned long long)st.frames, mb, (double)st.pack_bytes / 1e6, st.seconds,
                st.seconds > 0 ? (double)st.frames / st.seconds : 0.0,
                st.seconds > 0 ? mb / st.seconds : 0.0, st.threads);
    }
done:
    free(sources);
    free(extra);
    free(val);
    free(test);
    return rc;
}

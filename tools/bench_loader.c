/*
 * bench_loader.c - vbbench loader: batch assembly from a pack, side by side
 * with its ceiling (a plain uint8 -> float32 loop over data in RAM) and with
 * its baseline (decoding the same windows from the PNG directories with
 * libpng, the path users have today), in one run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "vbp_util.h"
#include "vbp_image.h"
#include "vbp_loader.h"

static int usage(FILE *f)
{
    fprintf(f,
        "usage: vbbench loader PACK [options]\n"
        "Batch assembly (vbp_loader_next) vs the uint8->float32 ceiling and vs PNG decoding.\n"
        "  --seq N            frames per window (default 3)\n"
        "  --stride N         step between windows (default 1)\n"
        "  --batch B          samples per batch (default 4)\n"
        "  --mode M           disk (default) or preload\n"
        "  --order O          auto (default), shuffle, sequential, locality\n"
        "  --flip P           probability of the horizontal flip per sample (default 0.5)\n"
        "  --target T         binary (default, cut 64) or soft heatmap targets\n"
        "  --brightness F, --contrast F, --shift PX   augmentations (default 0: off)\n"
        "  --threads T        worker threads, also used by the ceiling and PNG runs (default 2)\n"
        "  --seconds S        time of each of the three runs, in alternating 0.5 s slices (default 3)\n"
        "  --from-png ROOT    also decode the same windows from ROOT's PNG directories\n"
        "  --memory-limit N   bytes the pack may use (suffix K, M, G); AUTO order is locality above it\n"
        "  --cold             drop the pack from the page cache first; the first epoch is from disk\n"
        "  --json             print the results as JSON on stdout\n"
        "  -h, --help         this help\n");
    return f == stderr ? 2 : 0;
}

/* ---------------------------------------------------------------- timed runs */

/* Run `work(ctx, thread)` in `threads` threads until `seconds` passed or it
 * returns 0; returns units done (work returns units per call). */
typedef uint64_t (*work_fn)(void *ctx, unsigned thread);
typedef struct runner {
    work_fn work;
    void *ctx;
    double deadline;
    atomic_uint_fast64_t units;
    atomic_int failed;
    unsigned id;
} runner;

typedef struct runner_arg { runner *r; unsigned thread; } runner_arg;

static void *runner_main(void *p)
{
    runner_arg *a = p;
    while (vbp_now() < a->r->deadline && !atomic_load(&a->r->failed)) {
        uint64_t u = a->r->work(a->r->ctx, a->thread);
        if (!u) {
            atomic_store(&a->r->failed, 1);
            break;
        }
        atomic_fetch_add(&a->r->units, u);
    }
    return NULL;
}

static uint64_t run_timed(work_fn work, void *ctx, unsigned threads, double seconds, double *took)
{
    runner r = { .work = work, .ctx = ctx, .deadline = vbp_now() + seconds };
    atomic_init(&r.units, 0);
    atomic_init(&r.failed, 0);
    pthread_t tid[64];
    runner_arg args[64];
    double t0 = vbp_now();
    for (unsigned i = 0; i < threads; i++) {
        args[i] = (runner_arg){ &r, i };
        pthread_create(&tid[i], NULL, runner_main, &args[i]);
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    *took = vbp_now() - t0;
    return atomic_load(&r.failed) ? 0 : atomic_load(&r.units);
}

/* ---------------------------------------------------------------- ceiling */

/* Plain conversion loop over the same bytes the loader reads (the pack's
 * mapping, in page cache), one batch-sized float32 buffer per thread. */
typedef struct ceiling {
    const uint8_t *src;
    size_t src_size, chunk;   /* chunk = uint8 bytes of one batch */
    float *dst[64];
    size_t pos[64];
} ceiling;

static uint64_t ceiling_work(void *p, unsigned t)
{
    ceiling *c = p;
    if (c->pos[t] + c->chunk > c->src_size)
        c->pos[t] = 0;
    const uint8_t *restrict s = c->src + c->pos[t];
    float *restrict d = c->dst[t];
    for (size_t i = 0; i < c->chunk; i++)
        d[i] = (float)s[i] / 255.0f;
    c->pos[t] += c->chunk;
    return 1;
}

/* ---------------------------------------------------------------- PNG path */

typedef struct png_run {
    const vbp_loader *ld;
    const vbp_pack *pack;
    const char *root;
    int vballnet;              /* ROOT/<clip>/<N>.png, heatmaps drawn from labels */
    uint64_t *order;           /* the windows, in the loader's first-epoch order */
    atomic_uint_fast64_t next;
    uint8_t *u8[64];
    float *x[64], *y[64];
    char error[512];
} png_run;

static void png_path(const png_run *r, const vbp_clip *c, uint64_t frame, int heat, char *out,
                     size_t size)
{
    if (r->vballnet)
        snprintf(out, size, "%s/%s/%llu.png", r->root, c->name, (unsigned long long)frame);
    else
        snprintf(out, size, "%s/%s/%s/%s/%llu.png", r->root, c->group, heat ? "heatmaps" : "inputs",
                 c->name, (unsigned long long)frame);
}

/* One window from PNGs: decode seq frames and heatmaps, convert to float32. */
static uint64_t png_work(void *p, unsigned t)
{
    png_run *r = p;
    const vbp_loader_shape *sh = vbp_loader_get_shape(r->ld);
    uint64_t i = atomic_fetch_add(&r->next, 1) % sh->samples;
    vbp_sample s;
    vbp_loader_sample(r->ld, r->order[i], &s);
    const vbp_clip *c = vbp_pack_clip(r->pack, s.clip);
    size_t hw = (size_t)sh->height * sh->width, fsz = sh->channels * hw;
    char path[4096];
    vbp_error err;
    for (uint32_t f = 0; f < sh->seq; f++) {
        uint64_t frame = s.clip_frame + f;
        png_path(r, c, frame, 0, path, sizeof path);
        if (vbp_png_read_planar(path, sh->width, sh->height, sh->channels, r->u8[t], fsz, &err)) {
            snprintf(r->error, sizeof r->error, "%s", vbp_error_message(&err));
            return 0;
        }
        for (size_t k = 0; k < fsz; k++)
            r->x[t][f * fsz + k] = (float)r->u8[t][k] / 255.0f;
        if (r->vballnet) {
            vbp_label l = vbp_pack_label(r->pack, s.first_frame + f);
            vbp_heatmap_style st = { VBP_HEATMAP_DISC, 3.0f, 3.0f };
            memset(r->u8[t], 0, hw);
            if (l.visibility == 1)
                vbp_heatmap_draw(r->u8[t], sh->width, sh->height, l.x, l.y, &st);
        } else {
            png_path(r, c, frame, 1, path, sizeof path);
            if (vbp_png_read_planar(path, sh->width, sh->height, 1, r->u8[t], hw, &err)) {
                snprintf(r->error, sizeof r->error, "%s", vbp_error_message(&err));
                return 0;
            }
        }
        for (size_t k = 0; k < hw; k++)
            r->y[t][f * hw + k] = (float)r->u8[t][k] / 255.0f;
    }
    return 1;
}

/* ---------------------------------------------------------------- main */

typedef struct result { double samples_s, mb_s, seconds; uint64_t samples; } result;

static void fill(result *r, uint64_t samples, double secs, size_t u8_per_sample)
{
    r->samples = samples;
    r->seconds = secs;
    r->samples_s = secs > 0 ? (double)samples / secs : 0;
    r->mb_s = r->samples_s * (double)u8_per_sample / 1e6;
}

/* Serve batches, continuing across calls and epochs, for `seconds` (or to the
 * end of the current epoch when one_epoch); adds to st. */
typedef struct serve_state { uint64_t epoch, samples; double secs; } serve_state;

static int serve(vbp_loader *ld, serve_state *st, double seconds, int one_epoch, vbp_error *err)
{
    double t0 = vbp_now();
    int rc = VBP_OK;
    while (!rc) {
        vbp_batch b;
        int n = vbp_loader_next(ld, &b, err);
        if (n < 0) {
            rc = n;
            break;
        }
        if (n == 0) {
            rc = vbp_loader_begin_epoch(ld, ++st->epoch, 0, err);
            if (one_epoch)
                break;
            continue;
        }
        st->samples += (uint64_t)n;
        if (!one_epoch && vbp_now() - t0 >= seconds)
            break;
    }
    st->secs += vbp_now() - t0;
    return rc;
}

static int drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return rc;
}

int vbbench_loader(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "seq", required_argument, NULL, 's' },     { "stride", required_argument, NULL, 'S' },
        { "batch", required_argument, NULL, 'b' },   { "mode", required_argument, NULL, 'm' },
        { "order", required_argument, NULL, 'o' },   { "threads", required_argument, NULL, 't' },
        { "seconds", required_argument, NULL, 'd' }, { "from-png", required_argument, NULL, 'p' },
        { "cold", no_argument, NULL, 'c' },          { "flip", required_argument, NULL, 'f' },
        { "memory-limit", required_argument, NULL, 'l' },
        { "target", required_argument, NULL, 'T' },  { "brightness", required_argument, NULL, 'B' },
        { "contrast", required_argument, NULL, 'C' }, { "shift", required_argument, NULL, 'X' },
                  { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 }
    };
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.threads = 2;
    o.flip_prob = 0.5f;
    double seconds = 3;
    const char *png_root = NULL;
    int cold = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o.seq = (uint32_t)atoi(optarg); break;
        case 'S': o.stride = (uint32_t)atoi(optarg); break;
        case 'b': o.batch = (uint32_t)atoi(optarg); break;
        case 't': o.threads = (uint32_t)atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'p': png_root = optarg; break;
        case 'c': cold = 1; break;
        case 'f': o.flip_prob = (float)atof(optarg); break;
        case 'B': o.brightness = (float)atof(optarg); break;
        case 'C': o.contrast = (float)atof(optarg); break;
        case 'X': o.shift = (uint32_t)atoi(optarg); break;
        case 'T':
            if (vbp_target_parse(optarg, &o.target)) {
                fprintf(stderr, "vbbench loader: bad --target '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l': {
            char *end;
            double v = strtod(optarg, &end);
            double unit = *end == 'K' ? 1024.0 : *end == 'M' ? 1048576.0 : *end == 'G' ? 1073741824.0 : 1.0;
            if (!(v > 0) || (*end && !strchr("KMG", *end)) || (*end && end[1])) {
                fprintf(stderr, "vbbench loader: bad --memory-limit '%s'\n", optarg);
                return 2;
            }
            o.memory_limit = (uint64_t)(v * unit);
            break;
        }
        case 'j': json = 1; break;
        case 'm':
            if (vbp_load_mode_parse(optarg, &o.mode)) {
                fprintf(stderr, "vbbench loader: --mode is disk or preload, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'o':
            if (vbp_order_parse(optarg, &o.order)) {
                fprintf(stderr, "vbbench loader: unknown --order '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc - 1)
        return usage(stderr);
    if (!(seconds > 0) || o.threads > 64) {
        fprintf(stderr, "vbbench loader: --seconds must be > 0 and --threads <= 64\n");
        return 2;
    }
    const char *path = argv[optind];
    unsigned threads = o.threads ? o.threads : 1;

    if (cold && drop_cache(path)) {
        fprintf(stderr, "vbbench loader: %s: cannot drop it from the page cache: %s\n", path,
                strerror(errno));
        return 1;
    }
    vbp_loader *ld;
    vbp_error err;
    if (vbp_loader_open_path(path, &o, &ld, &err)) {
        fprintf(stderr, "vbbench loader: %s\n", vbp_error_message(&err));
        return 1;
    }
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    size_t hw = (size_t)sh->height * sh->width;
    size_t u8_per_sample = (size_t)sh->seq * (sh->channels + 1) * hw;
    vbp_memreport m0, m1;
    vbp_loader_memory(ld, &m0, NULL);
    char memtext[2048];
    vbp_memreport_format(&m0, memtext, sizeof memtext);
    FILE *info = json ? stderr : stdout;
    fprintf(info, "pack %s: %llu windows of seq %u, %s %ux%u, batch %u, flip %.2f, mode %s, order %s,"
            " %u thread%s\n",
            path, (unsigned long long)sh->samples, sh->seq, sh->channels == 3 ? "RGB" : "gray",
            sh->width, sh->height, sh->batch, (double)o.flip_prob, vbp_load_mode_name(sh->mode),
            vbp_order_name(sh->order), o.threads, o.threads == 1 ? "" : "s");
    fprintf(info, "%s\nmemory at start:\n%s", vbp_loader_note(ld), memtext);

    /* 1. One epoch (at most --seconds) alone: the cold figure with --cold, a
     * warm-up otherwise; the memory measured right after is the loader's own. */
    serve_state first = { 0 }, warm = { 0 };
    int rc = serve(ld, &first, seconds, 1, &err);
    vbp_loader_memory(ld, &m1, NULL);

    /* 2. Loader, ceiling and PNG in alternating half-second slices, so that
     * whatever else the machine does weighs on the three alike. */
    ceiling cl = { 0 };
    png_run pr = { .ld = ld, .pack = vbp_loader_pack(ld), .root = png_root };
    atomic_init(&pr.next, 0);
    cl.src = vbp_pack_map(vbp_loader_pack(ld), &cl.src_size);
    cl.chunk = (size_t)sh->batch * u8_per_sample;
    if (cl.chunk > cl.src_size)
        cl.chunk = cl.src_size;
    int ok = !rc;
    for (unsigned t = 0; ok && t < threads; t++) {
        ok = (cl.dst[t] = malloc(cl.chunk * sizeof(float))) != NULL;
        cl.pos[t] = cl.src_size / threads * t;
    }
    if (ok && png_root) {
        char probe[4096];
        struct stat st;
        const vbp_clip *c0 = vbp_pack_clip(pr.pack, 0);
        png_path(&pr, c0, 0, 0, probe, sizeof probe);
        if (stat(probe, &st)) {
            pr.vballnet = 1;
            png_path(&pr, c0, 0, 0, probe, sizeof probe);
        }
        if (stat(probe, &st)) {
            snprintf(err.detail, sizeof err.detail,
                     "%s: no frames of clip '%s' there (neither %s/inputs/%s/0.png nor %s/0.png)",
                     png_root, c0->name, c0->group, c0->name, c0->name);
            rc = VBP_E_INPUT;
            ok = 0;
        }
        ok = ok && (pr.order = malloc(sh->samples * sizeof *pr.order)) &&
             !vbp_loader_epoch_order(ld, 0, pr.order, &err);
        for (unsigned t = 0; ok && t < threads; t++)
            ok = (pr.u8[t] = malloc(sh->channels * hw)) && (pr.x[t] = malloc(sh->x_floats * 4)) &&
                 (pr.y[t] = malloc(sh->y_floats * 4));
    }
    uint64_t ceil_batches = 0, png_samples = 0;
    double ceil_secs = 0, png_secs = 0, slice = 0.5, cpu[3] = { 0, 0, 0 };
    for (double done = 0; ok && done < seconds; done += slice) {
        double took, c0 = bench_cpu();
        rc = serve(ld, &warm, slice, 0, &err);
        double c1 = bench_cpu();
        ceil_batches += run_timed(ceiling_work, &cl, threads, slice, &took);
        double c2 = bench_cpu();
        cpu[0] += c1 - c0;
        cpu[1] += c2 - c1;
        ceil_secs += took;
        if (png_root) {
            uint64_t n = run_timed(png_work, &pr, threads, slice, &took);
            cpu[2] += bench_cpu() - c2;
            if (!n) {
                snprintf(err.detail, sizeof err.detail, "%s", pr.error[0] ? pr.error : "PNG run failed");
                rc = VBP_E_INPUT;
            }
            png_samples += n;
            png_secs += took;
        }
        ok = !rc;
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "\rvbbench loader: %.1f / %.1f s", done + slice, seconds);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");
    for (unsigned t = 0; t < threads; t++) {
        free(cl.dst[t]);
        free(pr.u8[t]);
        free(pr.x[t]);
        free(pr.y[t]);
    }
    free(pr.order);
    if (!ok) {
        fprintf(stderr, "vbbench loader: %s\n", rc ? vbp_error_message(&err) : "out of memory");
        vbp_loader_close(ld);
        return 1;
    }
    double waited = vbp_loader_wait_seconds(ld);
    result cold_r, load_r, ceil_r, png_r = { 0 };
    fill(&cold_r, first.samples, first.secs, u8_per_sample);
    fill(&load_r, warm.samples, warm.secs, u8_per_sample);
    fill(&ceil_r, ceil_batches * sh->batch, ceil_secs, u8_per_sample);
    if (png_root)
        fill(&png_r, png_samples, png_secs, u8_per_sample);

    double of_ceiling = ceil_r.samples_s > 0 ? load_r.samples_s / ceil_r.samples_s : 0;
    double vs_png = png_r.samples_s > 0 ? load_r.samples_s / png_r.samples_s : 0;
    /* Samples per CPU-second: what each path costs, whatever else runs on the machine. */
    double per_cpu[3] = {
        cpu[0] > 0 ? (double)warm.samples / cpu[0] : 0,
        cpu[1] > 0 ? (double)(ceil_batches * sh->batch) / cpu[1] : 0,
        cpu[2] > 0 ? (double)png_samples / cpu[2] : 0,
    };
    double cpu_of_ceiling = per_cpu[1] > 0 ? per_cpu[0] / per_cpu[1] : 0;
    double cpu_vs_png = per_cpu[2] > 0 ? per_cpu[0] / per_cpu[2] : 0;
    if (json) {
        vbp_json j;
        vbp_json_init(&j, 0);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "pack", path);
        vbp_json_ku64(&j, "seq", sh->seq);
        vbp_json_ku64(&j, "batch", sh->batch);
        vbp_json_ku64(&j, "channels", sh->channels);
        vbp_json_kstring(&j, "mode", vbp_load_mode_name(sh->mode));
        vbp_json_kstring(&j, "order", vbp_order_name(sh->order));
        vbp_json_ku64(&j, "threads", o.threads);
        vbp_json_kdouble(&j, "flip", (double)o.flip_prob, 3);
        vbp_json_ku64(&j, "samples", sh->samples);
        vbp_json_key(&j, "first_epoch");
        vbp_json_begin_object(&j);
        vbp_json_kbool(&j, "cold", cold);
        vbp_json_kdouble(&j, "samples_per_s", cold_r.samples_s, 6);
        vbp_json_kdouble(&j, "mb_per_s", cold_r.mb_s, 6);
        vbp_json_kdouble(&j, "seconds", cold_r.seconds, 6);
        vbp_json_ku64(&j, "served", cold_r.samples);
        vbp_json_end_object(&j);
        vbp_json_key(&j, "loader");
        vbp_json_begin_object(&j);
        vbp_json_kdouble(&j, "samples_per_s", load_r.samples_s, 6);
        vbp_json_kdouble(&j, "mb_per_s", load_r.mb_s, 6);
        vbp_json_kdouble(&j, "seconds", load_r.seconds, 6);
        vbp_json_ku64(&j, "served", load_r.samples);
        vbp_json_kdouble(&j, "waited_s", waited, 6);
        vbp_json_kdouble(&j, "of_ceiling", of_ceiling, 4);
        vbp_json_kdouble(&j, "per_cpu_s", per_cpu[0], 6);
        vbp_json_kdouble(&j, "cpu_of_ceiling", cpu_of_ceiling, 4);
        vbp_json_end_object(&j);
        vbp_json_key(&j, "ceiling");
        vbp_json_begin_object(&j);
        vbp_json_kdouble(&j, "samples_per_s", ceil_r.samples_s, 6);
        vbp_json_kdouble(&j, "mb_per_s", ceil_r.mb_s, 6);
        vbp_json_kdouble(&j, "per_cpu_s", per_cpu[1], 6);
        vbp_json_end_object(&j);
        if (png_root) {
            vbp_json_key(&j, "png");
            vbp_json_begin_object(&j);
            vbp_json_kdouble(&j, "samples_per_s", png_r.samples_s, 6);
            vbp_json_kdouble(&j, "mb_per_s", png_r.mb_s, 6);
            vbp_json_kdouble(&j, "speedup", vs_png, 4);
            vbp_json_kdouble(&j, "per_cpu_s", per_cpu[2], 6);
            vbp_json_kdouble(&j, "cpu_speedup", cpu_vs_png, 4);
            vbp_json_end_object(&j);
        }
        vbp_json_key(&j, "memory");
        vbp_json_begin_object(&j);
        vbp_json_ku64(&j, "pack_bytes", m1.pack_bytes);
        vbp_json_ku64(&j, "resident_at_start", m0.resident_bytes);
        vbp_json_ku64(&j, "resident_after_first_epoch", m1.resident_bytes);
        vbp_json_ku64(&j, "peak_rss_bytes", m1.peak_rss_bytes);
        vbp_json_ku64(&j, "anon_rss_bytes", m1.anon_rss_bytes);
        vbp_json_ku64(&j, "float32_bytes", m1.float32_bytes);
        vbp_json_ku64(&j, "saving_bytes", m1.saving_bytes);
        vbp_json_end_object(&j);
        vbp_json_end_object(&j);
        vbp_json_print(&j, stdout);
    } else {
        char label[64];
        snprintf(label, sizeof label, "first epoch%s", cold ? ", cold cache" : " (warm-up)");
        printf("%-40s %9.1f samples/s %8.1f MB/s  %llu samples in %.2f s\n", label,
               cold_r.samples_s, cold_r.mb_s, (unsigned long long)cold_r.samples, cold_r.seconds);
        printf("%-40s %9.1f samples/s %8.1f MB/s %8.1f /CPU-s  %.0f%% of ceiling (%.0f%% per CPU-s)\n",
               "loader, vbp_loader_next", load_r.samples_s, load_r.mb_s, per_cpu[0],
               100 * of_ceiling, 100 * cpu_of_ceiling);
        snprintf(label, sizeof label, "uint8->float32 plain loop (%u thread%s)", threads,
                 threads == 1 ? "" : "s");
        printf("%-40s %9.1f samples/s %8.1f MB/s %8.1f /CPU-s\n", label, ceil_r.samples_s,
               ceil_r.mb_s, per_cpu[1]);
        if (png_root)
            printf("%-40s %9.1f samples/s %8.1f MB/s %8.1f /CPU-s  loader is %.1fx (%.1fx per CPU-s)\n",
                   "PNG decode (libpng), same windows", png_r.samples_s, png_r.mb_s, per_cpu[2],
                   vs_png, cpu_vs_png);
        printf("the trainer waited %.2f s in vbp_loader_next in all\n", waited);
        printf("after the first epoch: %.1f MiB of the pack resident (%.1f MiB at start),"
               " peak RSS %.1f MiB, anonymous RSS %.1f MiB\n",
               (double)m1.resident_bytes / 1048576.0, (double)m0.resident_bytes / 1048576.0,
               (double)m1.peak_rss_bytes / 1048576.0, (double)m1.anon_rss_bytes / 1048576.0);
    }
    vbp_loader_close(ld);
    return 0;
}

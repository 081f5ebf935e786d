/*
 * bench_pack.c - vbbench pack: the packer's end-to-end rate against the
 * single-thread libpng decode rate of the same files, in one run.
 *
 *   baseline: every PNG the packer decodes (frames, and heatmaps when the
 *             layout has them) read and decoded on one thread;
 *   packer:   vbp_build_pack with T threads into a temporary file, which is
 *             removed (untimed) before each round so no round pays for
 *             deleting the previous round's pack.
 * R rounds of each, alternating; prints the best and the median of both rates
 * and packer / (decode x min(T, cores)) for each; target >= 0.8.  Also the
 * CPU time (user + system, all threads) of each, whose ratio is the work the
 * packer adds to the decode: it does not depend on what else the machine runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "vbp_util.h"
#include "vbp_dataset.h"
#include "vbp_image.h"
#include "vbp_build.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts t[0..n) and returns its median. */
static double median(double *t, unsigned n)
{
    qsort(t, n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static int usage(FILE *f)
{
    fprintf(f, "usage: vbbench pack ROOT [--threads T] [--rounds R] [--grayscale] [--codec raw|lz4] [--json]\n"
               "  Decode rate of ROOT's PNGs on one thread vs vbpack with T threads (default: all cores).\n");
    return f == stdout ? 0 : 2;
}

/* One single-thread decode pass over ds; returns seconds, or -1 on error (printed). */
static double decode_pass(const vbp_dataset *ds, uint32_t channels, uint8_t *dst,
                          uint64_t *pixel_bytes)
{
    uint8_t *buf = NULL;
    size_t cap = 0, size;
    vbp_error e;
    const size_t plane = 512u * 288u;
    double t0 = vbp_now();
    *pixel_bytes = 0;
    for (size_t c = 0; c < ds->count; c++)
        for (size_t i = 0; i < ds->clips[c].frame_count; i++) {
            const vbp_source_clip *cl = &ds->clips[c];
            if (vbp_file_read(cl->frames[i], &buf, &cap, &size, &e) != VBP_OK ||
                vbp_png_decode_planar(buf, size, cl->frames[i], 512, 288, channels, dst,
                                      3 * plane, &e) != VBP_OK)
                goto fail;
            *pixel_bytes += channels * plane;
            if (!cl->heatmaps)
                continue;
            if (vbp_file_read(cl->heatmaps[i], &buf, &cap, &size, &e) != VBP_OK ||
                vbp_png_decode_planar(buf, size, cl->heatmaps[i], 512, 288, 1, dst, 3 * plane,
                                      &e) != VBP_OK)
                goto fail;
            *pixel_bytes += plane;
        }
    free(buf);
    return vbp_now() - t0;
fail:
    fprintf(stderr, "vbbench pack: %s\n", vbp_error_message(&e));
    free(buf);
    return -1;
}

int vbbench_pack(int argc, char **argv)
{
    const char *root = NULL;
    unsigned threads = 0, rounds = 3;
    int json = 0;
    vbp_build_opts o;
    vbp_build_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage(stdout);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--grayscale"))
            o.frame_channels = 1;
        else if (!strcmp(argv[i], "--codec") && i + 1 < argc)
            o.codec = !strcmp(argv[++i], "lz4") ? VBP_CODEC_LZ4 : VBP_CODEC_RAW;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] != '-' && !root)
            root = argv[i];
        else
            return usage(stderr);
    }
    if (!root || rounds < 1 || rounds > 100 || threads > 256)
        return usage(stderr);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = online > 0 ? (unsigned)online : 1;
    if (!threads)
        threads = cores;

    vbp_dataset ds = {0};
    vbp_error e;
    if (vbp_dataset_scan(&ds, root, VBP_LAYOUT_AUTO, VBP_SPLIT_TRAIN, NULL, &e) != VBP_OK) {
        fprintf(stderr, "vbbench pack: %s\n", vbp_error_message(&e));
        vbp_dataset_free(&ds);
        return 1;
    }
    uint64_t frames = 0, pixel_bytes = 0;
    for (size_t c = 0; c < ds.count; c++)
        frames += ds.clips[c].frame_count;
    uint8_t *dst = malloc(3 * 512 * 288);
    double *dec_t = calloc(rounds, sizeof *dec_t), *pack_t = calloc(rounds, sizeof *pack_t);
    double *dec_cpu = calloc(rounds, sizeof *dec_cpu), *pack_cpu = calloc(rounds, sizeof *pack_cpu);
    const char *t = getenv("TMPDIR");
    char out[4096];
    snprintf(out, sizeof out, "%s/vbbench-pack-%ld.vbp", t && *t ? t : "/tmp", (long)getpid());
    vbp_build_source src = {root, VBP_SPLIT_TRAIN};
    o.sources = &src;
    o.source_count = 1;
    o.threads = threads;
    o.overwrite = 1;
    int rc = 0;
    if (!dst || !dec_t || !pack_t || !dec_cpu || !pack_cpu) {
        fprintf(stderr, "vbbench pack: out of memory\n");
        rc = 1;
    }
    for (unsigned r = 0; r < rounds && rc == 0; r++) {
        double c0 = bench_cpu();
        double d = decode_pass(&ds, o.frame_channels, dst, &pixel_bytes);
        if (d < 0) {
            rc = 1;
            break;
        }
        dec_t[r] = d;
        dec_cpu[r] = bench_cpu() - c0;
        unlink(out);
        c0 = bench_cpu();
        vbp_build_stats st;
        if (vbp_build_pack(out, &o, &st, &e) != VBP_OK) {
            fprintf(stderr, "vbbench pack: %s\n", vbp_error_message(&e));
            rc = 1;
            break;
        }
        pack_t[r] = st.seconds;
        pack_cpu[r] = bench_cpu() - c0;
    }
    unlink(out);
    vbp_dataset_free(&ds);
    double cpu_ratio = rc ? 0 : median(pack_cpu, rounds) / median(dec_cpu, rounds);
    free(dec_cpu);
    free(pack_cpu);
    if (rc) {
        free(dst);
        free(dec_t);
        free(pack_t);
        return rc;
    }
    unsigned used = threads < cores ? threads : cores;
    double med_decode = median(dec_t, rounds), med_pack = median(pack_t, rounds);
    double best_decode = dec_t[0], best_pack = pack_t[0]; /* sorted by median() */
    double mb = (double)pixel_bytes / 1e6;
    double dec_fps = (double)frames / best_decode, pack_fps = (double)frames / best_pack;
    double dec_med_fps = (double)frames / med_decode, pack_med_fps = (double)frames / med_pack;
    double ratio = pack_fps / (dec_fps * used), ratio_med = pack_med_fps / (dec_med_fps * used);
    if (json) {
        vbp_json j;
        vbp_json_init(&j, 1);
        vbp_json_begin_object(&j);
        vbp_json_ku64(&j, "frames", frames);
        vbp_json_ku64(&j, "rounds", rounds);
        vbp_json_ku64(&j, "threads", threads);
        vbp_json_ku64(&j, "cores", cores);
        vbp_json_kdouble(&j, "decode_fps", dec_fps, 6);
        vbp_json_kdouble(&j, "decode_mb_s", mb / best_decode, 6);
        vbp_json_kdouble(&j, "pack_fps", pack_fps, 6);
        vbp_json_kdouble(&j, "pack_mb_s", mb / best_pack, 6);
        vbp_json_kdouble(&j, "ratio", ratio, 4);
        vbp_json_kdouble(&j, "decode_fps_median", dec_med_fps, 6);
        vbp_json_kdouble(&j, "pack_fps_median", pack_med_fps, 6);
        vbp_json_kdouble(&j, "ratio_median", ratio_med, 4);
        vbp_json_kdouble(&j, "cpu_ratio_median", cpu_ratio, 4);
        vbp_json_end_object(&j);
        vbp_json_print(&j, stdout);
    } else
        printf("vbbench pack %s: %llu frames (%s, %s), %u rounds\n"
               "                            best                        median\n"
               "  libpng decode, 1 thread : %7.1f frames/s %6.1f MB/s  %7.1f frames/s %6.1f MB/s\n"
               "  vbpack, %u threads       : %7.1f frames/s %6.1f MB/s  %7.1f frames/s %6.1f MB/s\n"
               "  packer / (decode x %u cores) = %.2f best, %.2f median (target >= 0.80)\n"
               "  CPU time, packer / decode = %.2f median (work added to the decode)\n",
               root, (unsigned long long)frames, o.frame_channels == 1 ? "gray" : "rgb",
               vbp_codec_name(o.codec), rounds, dec_fps, mb / best_decode, dec_med_fps,
               mb / med_decode, threads, pack_fps, mb / best_pack, pack_med_fps, mb / med_pack,
               used, ratio, ratio_med, cpu_ratio);
    free(dst);
    free(dec_t);
    free(pack_t);
    return 0;
}

/*
 * bench_pack.c - vbbench pack: the packer's end-to-end rate against the
 * single-thread libpng decode rate of the same files, in one run.
 *
 *   baseline: every PNG the packer decodes (frames, and heatmaps when the
 *             layout has them) read and decoded on one thread, best of R rounds;
 *   packer:   vbp_build_pack with T threads into a temporary file, best of R.
 * Prints both rates and packer / (decode x min(T, cores)); target >= 0.8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "dataset_scan.h"
#include "png_io.h"
#include "vbp_build.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
    double t0 = seconds();
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
    return seconds() - t0;
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
    double best_decode = 1e30, best_pack = 1e30;
    const char *t = getenv("TMPDIR");
    char out[4096];
    snprintf(out, sizeof out, "%s/vbbench-pack-%ld.vbp", t && *t ? t : "/tmp", (long)getpid());
    vbp_build_source src = {root, VBP_SPLIT_TRAIN};
    o.sources = &src;
    o.source_count = 1;
    o.threads = threads;
    o.overwrite = 1;
    int rc = 0;
    for (unsigned r = 0; r < rounds && rc == 0; r++) {
        double d = decode_pass(&ds, o.frame_channels, dst, &pixel_bytes);
        if (d < 0) {
            rc = 1;
            break;
        }
        best_decode = d < best_decode ? d : best_decode;
        vbp_build_stats st;
        if (vbp_build_pack(out, &o, &st, &e) != VBP_OK) {
            fprintf(stderr, "vbbench pack: %s\n", vbp_error_message(&e));
            rc = 1;
            break;
        }
        best_pack = st.seconds < best_pack ? st.seconds : best_pack;
    }
    unlink(out);
    free(dst);
    vbp_dataset_free(&ds);
    if (rc)
        return rc;
    unsigned used = threads < cores ? threads : cores;
    double dec_fps = (double)frames / best_decode, pack_fps = (double)frames / best_pack;
    double mb = (double)pixel_bytes / 1e6, ratio = pack_fps / (dec_fps * used);
    if (json)
        printf("{\"frames\": %llu, \"decode_fps\": %.1f, \"decode_mb_s\": %.1f, \"pack_fps\": %.1f, "
               "\"pack_mb_s\": %.1f, \"threads\": %u, \"cores\": %u, \"ratio\": %.3f}\n",
               (unsigned long long)frames, dec_fps, mb / best_decode, pack_fps, mb / best_pack,
               threads, cores, ratio);
    else
        printf("vbbench pack %s: %llu frames (%s, %s), best of %u rounds\n"
               "  libpng decode, 1 thread : %8.1f frames/s  %7.1f MB/s decoded\n"
               "  vbpack, %u threads       : %8.1f frames/s  %7.1f MB/s decoded\n"
               "  packer / (decode x %u cores) = %.2f (target >= 0.80)\n",
               root, (unsigned long long)frames, o.frame_channels == 1 ? "gray" : "rgb",
               vbp_codec_name(o.codec), rounds, dec_fps, mb / best_decode, threads, pack_fps,
               mb / best_pack, used, ratio);
    return 0;
}

/*
 * loader.c - opening a loader: options, geometry check, the AUTO order,
 * the two modes (hints to the kernel over one mapping), the memory report.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include "cpu.h"
#include "internal.h"
#include "loader_internal.h"
#include "background.h"

void vbp_loader_opts_default(vbp_loader_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seq = 3;
    o->stride = 1;
    o->splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN);
    o->mode = VBP_LOAD_DISK;
    o->order = VBP_ORDER_AUTO;
    o->batch = 4;
}

void vbp_loader_part(size_t n, uint32_t part, uint32_t parts, size_t *lo, size_t *hi)
{
    if (parts <= 1) {
        *lo = 0;
        *hi = n;
        return;
    }
    *lo = (size_t)((uint64_t)part * n / parts);
    *hi = (size_t)((uint64_t)(part + 1) * n / parts);
}

static const char *const order_names[] = { "auto", "shuffle", "sequential", "locality" };
static const char *const mode_names[] = { "disk", "preload" };
static const char *const target_names[] = { "auto", "soft", "binary" };

const char *vbp_target_name(vbp_target t)
{
    return vbp_name_of(target_names, 3, (unsigned)t);
}

int vbp_target_parse(const char *s, vbp_target *out)
{
    int i = vbp_name_find(target_names, 3, s);
    return i < 0 ? VBP_E_ARG : (*out = (vbp_target)i, VBP_OK);
}

const char *vbp_order_name(vbp_order o)
{
    return vbp_name_of(order_names, 4, (unsigned)o);
}

int vbp_order_parse(const char *s, vbp_order *out)
{
    int i = vbp_name_find(order_names, 4, s);
    return i < 0 ? VBP_E_ARG : (*out = (vbp_order)i, VBP_OK);
}

const char *vbp_load_mode_name(vbp_load_mode m)
{
    return vbp_name_of(mode_names, 2, (unsigned)m);
}

int vbp_load_mode_parse(const char *s, vbp_load_mode *out)
{
    int i = vbp_name_find(mode_names, 2, s);
    return i < 0 ? VBP_E_ARG : (*out = (vbp_load_mode)i, VBP_OK);
}

static int check_opts(const vbp_loader_opts *o, const char *path, vbp_error *err)
{
    if (!o->seq || !o->stride || !o->batch)
        return vbp_fail(err, VBP_E_ARG, "%s: seq, stride and batch must be >= 1", path);
    if (o->batch > (1u << 20))
        return vbp_fail(err, VBP_E_ARG, "%s: batch %u is larger than 2^20", path, o->batch);
    if (o->channels != 0 && o->channels != 1 && o->channels != 3)
        return vbp_fail(err, VBP_E_ARG, "%s: channels must be 1 or 3, not %u", path, o->channels);
    if (!o->splits || o->splits >> VBP_SPLIT_COUNT)
        return vbp_fail(err, VBP_E_ARG, "%s: splits mask 0x%x selects no valid split", path,
                        o->splits);
    if ((unsigned)o->mode > VBP_LOAD_PRELOAD || (unsigned)o->order > VBP_ORDER_LOCALITY)
        return vbp_fail(err, VBP_E_ARG, "%s: unknown mode or order", path);
    if (!(o->flip_prob >= 0.0f && o->flip_prob <= 1.0f))
        return vbp_fail(err, VBP_E_ARG, "%s: flip probability must be in [0, 1]", path);
    if (!(o->brightness >= 0.0f && o->brightness <= 1.0f) ||
        !(o->contrast >= 0.0f && o->contrast <= 1.0f) || o->shift > 1024)
        return vbp_fail(err, VBP_E_ARG, "%s: brightness and contrast must be in [0, 1], shift "
                        "at most 1024 px", path);
    if ((unsigned)o->target > VBP_TARGET_BINARY || o->target_cut > 255)
        return vbp_fail(err, VBP_E_ARG, "%s: unknown target or target cut %u > 255", path,
                        o->target_cut);
    if (o->parts > (1u << 20) || (o->parts > 1 && o->part >= o->parts))
        return vbp_fail(err, VBP_E_ARG, "%s: part %u of %u parts (at most 2^20 parts)", path,
                        o->part, o->parts);
    if (o->background > 1)
        return vbp_fail(err, VBP_E_ARG, "%s: background must be 0 or 1, not %u", path,
                        o->background);
    if (o->threads > 64 || o->prefetch > 64)
        return vbp_fail(err, VBP_E_ARG, "%s: at most 64 threads and 64 prefetched batches", path);
    return VBP_OK;
}

static const char *channel_word(uint32_t c)
{
    return c == 1 ? "gray (1 channel)" : "RGB (3 channels)";
}

static int check_geometry(const vbp_loader_opts *o, const vbp_geometry *g, const char *path,
                          vbp_error *err)
{
    if (o->channels && o->channels != g->frame_channels)
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: pack frames are %s, the loader asks for %u (%s)",
                        path, channel_word(g->frame_channels), o->channels,
                        o->channels == 3 ? "RGB" : "gray");
    if ((o->height && o->height != g->height) || (o->width && o->width != g->width))
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: pack frames are %ux%u, the loader asks for %ux%u",
                        path, g->width, g->height, o->width ? o->width : g->width,
                        o->height ? o->height : g->height);
    if (g->heatmap_channels != 1)
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: heatmaps have %u channels, the loader reads 1",
                        path, g->heatmap_channels);
    return VBP_OK;
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

/* snprintf that may cut (the note is one line for people; a cut is acceptable there). */
static void put(char *buf, size_t size, const char *fmt, ...) VBP_PRINTF(3, 4);
static void put(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

/* Where the pack's share comes from: "400.0 MiB this process may use: cgroup v1 ...; 112.0
 * MiB of it for the caller and the batch buffers", or "memory_limit set by the caller". */
static void limit_words(const vbp_loader *ld, char *buf, size_t size)
{
    if (ld->shape.memory_source == VBP_MEMLIMIT_CALLER) {
        put(buf, size, "%s", vbp_memlimit_source_name(VBP_MEMLIMIT_CALLER));
        return;
    }
    char src[640];
    vbp_memlimit_describe(&ld->limit, ld->shape.memory_source, src, sizeof src);
    put(buf, size, "%.1f MiB this process may use: %s; %.1f MiB of it for the caller and the "
        "batch buffers", mib(ld->headroom), src, mib(ld->own_bytes));
}

/*
 * PRELOAD: fault every page of the mapping in now (MADV_POPULATE_READ, or a
 * read per page on kernels without it), then mlock it when that leaves room
 * to spare (vbp_memlimit_spare) of what the pack may use: locked pages cannot
 * be reclaimed, so a lock that fills a cgroup gets the process killed by the
 * next allocation.  A pack larger than it may use is not populated (DISK).
 * DISK: a readahead hint for the order.  Never fails: what happened is
 * written to ld->note.
 */
static void apply_mode(vbp_loader *ld)
{
    size_t len;
    const uint8_t *map = vbp_pack_map(ld->pack, &len);
    if (!len)
        return;
    char skipped[800] = "", words[700];
    const uint64_t budget = ld->shape.memory_limit;
    if (ld->shape.mode == VBP_LOAD_PRELOAD && len > budget) {
        /* Populating more than fits would only evict what it just read. */
        limit_words(ld, words, sizeof words);
        put(skipped, sizeof skipped, "preload skipped: the pack (%.1f MiB) does not fit in "
            "the %.1f MiB left for it (%s); ", mib(len), mib(budget), words);
        ld->shape.mode = VBP_LOAD_DISK;
    }
    if (ld->shape.mode == VBP_LOAD_DISK) {
        int seq = ld->shape.order == VBP_ORDER_SEQUENTIAL;
        madvise((void *)map, len, seq ? MADV_SEQUENTIAL : MADV_NORMAL);
        put(ld->note, sizeof ld->note,
            "%sdisk: pages fault in on first use (%s readahead, WILLNEED %u batch%s ahead)",
            skipped, seq ? "sequential" : "normal", ld->depth + 1, ld->depth ? "es" : "");
        return;
    }
    double t0 = vbp_now();
    madvise((void *)map, len, MADV_WILLNEED);
#ifdef MADV_POPULATE_READ
    int populated = madvise((void *)map, len, MADV_POPULATE_READ) == 0;
#else
    int populated = 0;
#endif
    if (!populated) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        volatile uint8_t sink = 0;
        for (size_t off = 0; off < len; off += page)
            sink ^= map[off];
        (void)sink;
    }
    double secs = vbp_now() - t0;
    const uint64_t spare = vbp_memlimit_spare(ld->headroom);
    if (len + spare > budget) {
        limit_words(ld, words, sizeof words);
        put(ld->note, sizeof ld->note,
            "preload: %.1f MiB populated in %.2f s; not locked: that would leave less than "
            "%.1f MiB to spare of the %.1f MiB the pack may use (%s); pages stay in the page "
            "cache but the kernel may evict them under pressure", mib(len), secs, mib(spare),
            mib(budget), words);
        return;
    }
    if (!mlock(map, len)) {
        ld->locked_bytes = len;
        snprintf(ld->note, sizeof ld->note, "preload: %.1f MiB populated in %.2f s and locked",
                 mib(len), secs);
        return;
    }
    int e = errno;
    struct rlimit rl;
    char lim[64] = "unknown";
    if (!getrlimit(RLIMIT_MEMLOCK, &rl))
        snprintf(lim, sizeof lim, rl.rlim_cur == RLIM_INFINITY ? "unlimited" : "%.1f MiB",
                 mib(rl.rlim_cur));
    snprintf(ld->note, sizeof ld->note,
             "preload: %.1f MiB populated in %.2f s; mlock refused (%s, RLIMIT_MEMLOCK %s): "
             "pages stay in the page cache but the kernel may evict them under pressure",
             mib(len), secs, strerror(e), lim);
}

uint64_t vbp_loader_buffer_bytes(const vbp_pack *pack, const vbp_loader_opts *o)
{
    const vbp_pack_info *info = vbp_pack_get_info(pack);
    const vbp_geometry *g = &info->geometry;
    uint64_t hw = (uint64_t)g->height * g->width;
    uint64_t c = o->channels ? o->channels : g->frame_channels;
    uint64_t slots = o->threads ? (o->prefetch ? o->prefetch : 2) + 1 : 1;
    uint64_t sample = ((uint64_t)o->seq * (c + 1) + (o->background ? c : 0)) * hw * sizeof(float);
    return slots * o->batch * sample + (o->threads + 1) * g->frame_channels * hw +
           12 * info->frame_count +
           (o->background ? info->clip_count * g->frame_channels * hw : 0); /* at most */
}

/* What the pack may use: opts.memory_limit, or the measured headroom less the buffers. */
static void memory_budget(vbp_loader *ld)
{
    vbp_loader_shape *sh = &ld->shape;
    if (ld->opts.memory_limit) {
        sh->memory_limit = ld->headroom = ld->opts.memory_limit;
        sh->memory_source = VBP_MEMLIMIT_CALLER;
        return;
    }
    if (ld->opts.limit)
        ld->limit = *ld->opts.limit;
    else
        vbp_memlimit_read(NULL, &ld->limit);
    ld->opts.limit = NULL; /* borrowed for the open only */
    sh->memory_source = ld->limit.cache_source;
    ld->headroom = ld->limit.cache_bytes; /* UINT64_MAX when nothing could be read */
    ld->own_bytes = vbp_loader_buffer_bytes(ld->pack, &ld->opts) + ld->opts.reserve_bytes;
    sh->memory_limit = ld->headroom > ld->own_bytes ? ld->headroom - ld->own_bytes : 0;
}

/*
 * The background frame of every selected clip into ld->bg (vbp_loader.h, background.h): the
 * median of its frames 0, s, 2s, ...  VBP_E_NOMEM, or the error of reading a frame record.
 */
static int build_backgrounds(vbp_loader *ld, vbp_error *err)
{
    const size_t fb = (size_t)ld->geo.frame_channels * ld->geo.height * ld->geo.width;
    const uint8_t *frames[VBP_BG_FRAMES];
    uint8_t *copies[VBP_BG_FRAMES] = {0}; /* lz4 records decoded (raw ones are read in place) */
    int rc = (ld->bg = malloc(ld->nsel * fb)) ? VBP_OK
                                               : vbp_fail(err, VBP_E_NOMEM, "%s: no memory for "
                                                          "the background frames",
                                                          vbp_pack_path(ld->pack));
    for (uint64_t k = 0; k < ld->nsel && !rc; k++) {
        const vbp_clip *c = vbp_pack_clip(ld->pack, ld->sel_clip[k]);
        const uint64_t s = vbp_bg_stride(c->frame_count);
        uint32_t m = 0;
        for (uint64_t f = 0; f < c->frame_count && !rc; f += s, m++)
            rc = vbp_loader_frame_bytes(ld, c->first_frame + f, &copies[m], &frames[m], err);
        if (!rc && vbp_bg_median(frames, m, fb, ld->bg + k * fb))
            rc = vbp_fail(err, VBP_E_NOMEM, "no memory for a median");
    }
    for (uint32_t j = 0; j < VBP_BG_FRAMES; j++)
        free(copies[j]);
    return rc;
}

int vbp_loader_open(vbp_pack *pack, const vbp_loader_opts *opts, vbp_loader **out,
                    vbp_error *err)
{
    *out = NULL;
    vbp_loader_opts dflt;
    if (!opts) {
        vbp_loader_opts_default(&dflt);
        opts = &dflt;
    }
    const char *path = vbp_pack_path(pack);
    const vbp_pack_info *info = vbp_pack_get_info(pack);
    int rc = check_opts(opts, path, err);
    if (!rc)
        rc = check_geometry(opts, &info->geometry, path, err);
    if (rc)
        return rc;

    vbp_loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        return vbp_fail(err, VBP_E_NOMEM, "no memory for a loader");
    pthread_mutex_init(&ld->mu, NULL);
    pthread_cond_init(&ld->work_cv, NULL);
    pthread_cond_init(&ld->done_cv, NULL);
    ld->paused = 1; /* workers wait for the first begin_epoch */
    ld->pack = pack;
    ld->opts = *opts;
    if (ld->opts.target == VBP_TARGET_AUTO)
        ld->opts.target = VBP_TARGET_DEFAULT;
    if (!ld->opts.target_cut)
        ld->opts.target_cut = VBP_TARGET_CUT_DEFAULT;
    for (uint32_t v = 0; v < 256; v++)
        ld->target_lut[v] = v >= ld->opts.target_cut ? 1.0f : 0.0f;
    ld->stream = vbp_cpu_isa() >= VBP_ISA_AVX2;
    ld->geo = info->geometry;

    vbp_loader_shape *sh = &ld->shape;
    sh->seq = opts->seq;
    sh->channels = ld->geo.frame_channels;
    sh->height = ld->geo.height;
    sh->width = ld->geo.width;
    sh->batch = opts->batch;
    sh->mode = opts->mode;
    sh->background = opts->background;
    sh->x_floats = (size_t)(opts->seq + sh->background) * sh->channels * sh->height * sh->width;
    sh->y_floats = (size_t)opts->seq * sh->height * sh->width;
    memory_budget(ld);

    rc = vbp_index_build(ld, err);
    if (!rc && sh->background)
        rc = build_backgrounds(ld, err);
    if (!rc) {
        sh->batches = opts->drop_last ? sh->samples / sh->batch
                                      : (sh->samples + sh->batch - 1) / sh->batch;
        if (!sh->batches)
            rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: %llu samples, fewer than one batch of %u",
                          path, (unsigned long long)sh->samples, sh->batch);
    }
    if (!rc) {
        sh->order = opts->order;
        if (sh->order == VBP_ORDER_AUTO)
            sh->order = sh->data_bytes > sh->memory_limit ? VBP_ORDER_LOCALITY : VBP_ORDER_SHUFFLE;
        rc = vbp_prefetch_start(ld, err);
    }
    if (!rc) {
        apply_mode(ld);
        rc = vbp_loader_begin_epoch(ld, 0, 0, err);
    }
    if (rc) {
        vbp_loader_close(ld);
        return rc;
    }
    *out = ld;
    return VBP_OK;
}

int vbp_loader_open_path(const char *path, const vbp_loader_opts *opts, vbp_loader **out,
                         vbp_error *err)
{
    vbp_pack *pack;
    *out = NULL;
    int rc = vbp_pack_open(path, &pack, err);
    if (rc)
        return rc;
    rc = vbp_loader_open(pack, opts, out, err);
    if (rc) {
        vbp_pack_close(pack);
        return rc;
    }
    (*out)->owns_pack = 1;
    return VBP_OK;
}

void vbp_loader_close(vbp_loader *ld)
{
    if (!ld)
        return;
    vbp_prefetch_stop(ld);
    if (ld->locked_bytes) {
        size_t len;
        const uint8_t *map = vbp_pack_map(ld->pack, &len);
        munlock(map, len);
    }
    vbp_index_free(ld);
    free(ld->bg);
    free(ld->scratch);
    pthread_cond_destroy(&ld->work_cv);
    pthread_cond_destroy(&ld->done_cv);
    pthread_mutex_destroy(&ld->mu);
    if (ld->owns_pack)
        vbp_pack_close(ld->pack);
    free(ld);
}

const vbp_loader_shape *vbp_loader_get_shape(const vbp_loader *ld)
{
    return &ld->shape;
}

const vbp_pack *vbp_loader_pack(const vbp_loader *ld)
{
    return ld->pack;
}

uint64_t vbp_loader_num_samples(const vbp_loader *ld)
{
    return ld->shape.samples;
}

const char *vbp_loader_note(const vbp_loader *ld)
{
    return ld->note;
}

int vbp_loader_memory(const vbp_loader *ld, vbp_memreport *out, vbp_error *err)
{
    size_t len;
    const uint8_t *map = vbp_pack_map(ld->pack, &len);
    int rc = vbp_memreport_measure(map, len, out, err);
    if (rc)
        return rc;
    uint64_t hw = (uint64_t)ld->geo.height * ld->geo.width;
    out->data_bytes = ld->shape.data_bytes;
    out->locked_bytes = ld->locked_bytes;
    out->float32_bytes = ld->sel_frames * (ld->geo.frame_channels + 1) * hw * sizeof(float);
    out->float32_window_bytes =
        ld->shape.samples * (ld->shape.x_floats + ld->shape.y_floats) * sizeof(float);
    out->saving_bytes =
        out->float32_bytes > out->data_bytes ? out->float32_bytes - out->data_bytes : 0;
    return VBP_OK;
}

/*
 * pack_build.c - vbp_build_pack: dataset roots -> one pack.
 *
 * The work is a flat list of jobs in pack order (for each clip: its frames,
 * then its heatmaps).  Worker threads claim jobs in order, decode each into
 * slot (job % nslots) of a bounded ring and encode it there (lz4 or raw, and
 * its checksum: vbp_record_encode); the calling thread waits for the slots in
 * job order and hands the encoded records to the vbp_writer, so it only
 * writes.  The ring bounds memory to nslots decoded images and makes the
 * output independent of the thread count and of scheduling.
 *
 * A video's frames can only be decoded in order: the workers holding its
 * frame jobs take turns (the clip's `turn` is the next frame its decoder
 * gives), then convert their frame (BGR, area shrink, gray) in parallel,
 * each with its own converter.  Decoding one clip is thus serial, and H.264
 * decoding is about half the work: a worker that would wait for its clip's
 * turn decodes ahead instead, the next frame of a later video clip none of
 * whose jobs is claimed yet, converted into an `ahead` buffer (at most
 * AHEAD_BYTES of them) that the frame's job takes later.  So two clips
 * decode at once, and the pack's bytes do not change.  Whoever decodes a
 * clip's frame 0 opens its decoder; whoever decodes the last one checks that
 * the video ends there and closes it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vbp_dataset.h"
#include "internal.h"
#include "video_internal.h"
#include "vbp_image.h"
#include "vbp_build.h"
#include "vbp_memlimit.h"
#include "vbp_names.h"

typedef struct job {
    uint32_t clip;
    uint32_t frame;
    vbp_record_kind kind;
} job;

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

typedef struct slot {
    uint64_t job;
    int state;
    int rc;
    vbp_error err;
    uint64_t input_bytes;
    uint8_t *pixels;
    uint8_t *scratch; /* lz4 output (lz4 packs only) */
    vbp_record rec;   /* the encoded record: points into pixels or scratch */
} slot;

/* Decoding state of one video clip, under the builder's mutex except `v` (used by the turn holder). */
typedef struct video_clip {
    vbp_video *v;
    uint64_t turn;   /* the next frame the decoder gives */
    uint64_t first_job; /* index of its frame 0's job */
    int busy;        /* a worker is decoding frame `turn` */
    int failed;      /* a frame failed: the later ones do not decode (the first error is reported) */
    uint32_t ahead;  /* frames of it waiting in ahead buffers */
} video_clip;

/*
 * Decoded-ahead memory: enough for two clips to decode at once on the usual
 * cores.  A second decoder at work costs about AHEAD_DECODER more (720p
 * H.264: its reference frames and the BGR frame), and the pack's dirty page
 * cache wants room too: the buffers get a quarter of what this process may
 * still allocate (vbp_memlimit.h: a container's cgroup limit included)
 * minus AHEAD_DECODER, and none below that (an 80 MB cgroup packs the
 * shared clips without them; with them it was OOM-killed).
 */
#define AHEAD_BYTES (48u << 20)
#define AHEAD_DECODER (64u << 20)

enum { AHEAD_FREE, AHEAD_BUSY, AHEAD_READY };

/* A frame decoded and converted ahead of its job (under the builder's mutex but `pixels`). */
typedef struct ahead_buf {
    int state;
    uint32_t clip, frame;
    int rc;
    vbp_error err;
    uint64_t input_bytes;
    uint8_t *pixels; /* frame_bytes (the lowest free buffer is used first: pages untouched
                      * until the look-ahead needs them) */
} ahead_buf;

/* What one worker thread keeps between jobs. */
typedef struct worker_ctx {
    uint8_t *buf;    /* reused file buffer (PNGs) */
    size_t cap;
    vbp_video_frame *frame, *extra; /* the frame pulled; the check that a video ends */
    vbp_frame_conv *conv;
} worker_ctx;

typedef struct builder {
    const vbp_build_opts *opts;
    const vbp_dataset *ds;
    video_clip *videos; /* one per clip (used by video clips) */
    pthread_cond_t turn_passed;
    const job *jobs;
    uint64_t njobs;
    size_t frame_bytes, heatmap_bytes;
    size_t scratch_size; /* vbp_record_encode_bound(frame_bytes) for lz4, else 0 */
    vbp_heatmap_style style;
    pthread_mutex_t mu;
    pthread_cond_t slot_freed, slot_ready;
    uint64_t next_job; /* next job a worker claims */
    uint64_t consumed; /* jobs written so far */
    int stop;
    slot *slots;
    size_t nslots;
    ahead_buf *ahead;
    size_t nahead;
} builder;

void vbp_build_opts_init(vbp_build_opts *o)
{
    memset(o, 0, sizeof *o);
    o->layout = VBP_LAYOUT_AUTO;
    o->width = 512;
    o->height = 288;
    o->frame_channels = 3;
    o->codec = VBP_CODEC_RAW;
    o->heatmap = VBP_HEATMAP_KIND_DISC;
    o->radius = 3.0f;
    o->sigma = 3.0f;
}

static const char *const layout_names[] = { "auto", "tracknetv4", "vballnet", "tracknetv3",
                                            "vballnet-video" };

const char *vbp_layout_name(vbp_layout layout)
{
    return vbp_name_of(layout_names, 5, (unsigned)layout);
}

int vbp_layout_parse(const char *s, vbp_layout *out)
{
    int i = vbp_name_find(layout_names, 5, s);
    return i < 0 ? VBP_E_ARG : (*out = (vbp_layout)i, VBP_OK);
}

/*
 * Decode frame `frame` of video clip `ci` into w->frame; the caller holds
 * the clip's turn (busy, turn == frame).  Opens the decoder at frame 0,
 * checks the end and closes it at the last frame or on an error.  Returns
 * VBP_OK or an error naming the video.
 */
static int decode_frame(builder *b, uint32_t ci, uint64_t frame, worker_ctx *w,
                        uint64_t *input_bytes, vbp_error *err)
{
    const vbp_source_clip *c = &b->ds->clips[ci];
    video_clip *vc = &b->videos[ci];
    int rc = VBP_OK;
    *input_bytes = 0;
    if ((!w->frame && !(w->frame = vbp_video_frame_new())) ||
        (!w->extra && !(w->extra = vbp_video_frame_new())))
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", c->video);
    if (!rc && frame == 0) {
        rc = vbp_video_open(c->video, 1, &vc->v, err);
        *input_bytes = rc ? 0 : vbp_video_get_info(vc->v)->bytes;
    }
    if (!rc && (rc = vbp_video_next(vc->v, w->frame, err)) == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: decodes to %llu frames, its container lists %zu "
                      "(damaged video?)", c->video, (unsigned long long)frame, c->frame_count);
    if (rc == 1)
        rc = VBP_OK;
    if (!rc && frame + 1 == c->frame_count) {
        int more = vbp_video_next(vc->v, w->extra, err);
        if (more == 1)
            rc = vbp_fail(err, VBP_E_INPUT, "%s: decodes to more than the %zu frames its "
                          "container lists (damaged video?)", c->video, c->frame_count);
        else
            rc = more;
    }
    if (rc || frame + 1 == c->frame_count) {
        vbp_video_close(vc->v);
        vc->v = NULL;
    }
    return rc;
}

/* Convert w->frame of clip ci to the pack's size and channels at dst. */
static int convert_frame(builder *b, uint32_t ci, worker_ctx *w, uint8_t *dst, vbp_error *err)
{
    const vbp_source_clip *c = &b->ds->clips[ci];
    const vbp_build_opts *o = b->opts;
    if (!w->conv && !(w->conv = vbp_frame_conv_new()))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", c->video);
    return vbp_frame_conv_run(w->conv, w->frame, c->video, o->width, o->height, o->frame_channels,
                              dst, NULL, err);
}

/* Take the turn of clip ci (mutex held), decode its next frame (mutex released), give the turn back. */
static int take_turn_and_decode(builder *b, uint32_t ci, worker_ctx *w, uint64_t *input_bytes,
                                vbp_error *err)
{
    video_clip *vc = &b->videos[ci];
    uint64_t frame = vc->turn;
    int rc;
    vc->busy = 1;
    if (vc->failed) {
        rc = vbp_fail(err, VBP_E_INPUT, "%s: an earlier frame failed", b->ds->clips[ci].video);
        *input_bytes = 0;
    } else {
        pthread_mutex_unlock(&b->mu);
        rc = decode_frame(b, ci, frame, w, input_bytes, err);
        pthread_mutex_lock(&b->mu);
    }
    vc->failed = vc->failed || rc;
    vc->turn++;
    vc->busy = 0;
    pthread_cond_broadcast(&b->turn_passed);
    return rc;
}

/*
 * With the mutex held: decode and convert the next frame of the first later
 * video clip that no claimed job uses yet and whose decoder is free, into a
 * free ahead buffer.  Returns 1 when it did (the mutex was released
 * meanwhile), 0 when there was nothing to do.
 */
static int decode_ahead(builder *b, uint32_t from_clip, worker_ctx *w)
{
    ahead_buf *a = NULL;
    for (size_t i = 0; i < b->nahead && !a; i++)
        if (b->ahead[i].state == AHEAD_FREE)
            a = &b->ahead[i];
    if (!a || b->stop)
        return 0;
    uint32_t ci = from_clip + 1;
    for (; ci < b->ds->count; ci++) {
        const video_clip *vc = &b->videos[ci];
        if (b->ds->clips[ci].video && vc->first_job >= b->next_job && !vc->busy && !vc->failed &&
            vc->turn < b->ds->clips[ci].frame_count)
            break;
    }
    if (ci >= b->ds->count)
        return 0;
    a->state = AHEAD_BUSY;
    a->clip = ci;
    a->frame = (uint32_t)b->videos[ci].turn;
    vbp_error e;
    vbp_error_clear(&e);
    uint64_t in = 0;
    int rc = take_turn_and_decode(b, ci, w, &in, &e);
    if (!rc) {
        pthread_mutex_unlock(&b->mu);
        rc = convert_frame(b, ci, w, a->pixels, &e);
        pthread_mutex_lock(&b->mu);
    }
    a->rc = rc;
    a->err = e;
    a->input_bytes = in;
    a->state = AHEAD_READY;
    b->videos[ci].ahead++;
    pthread_cond_broadcast(&b->turn_passed);
    return 1;
}

/*
 * Frame jb->frame of a video clip, converted into dst: from its ahead buffer
 * if a worker decoded it ahead, else decoded in the clip's turn (decoding
 * ahead meanwhile rather than waiting).  Returns VBP_OK, an error naming
 * the video, or VBP_E_INTERRUPTED when the build stops meanwhile.
 */
static int video_frame(builder *b, const job *jb, uint8_t *dst, worker_ctx *w,
                       uint64_t *input_bytes, vbp_error *err)
{
    video_clip *vc = &b->videos[jb->clip];
    pthread_mutex_lock(&b->mu);
    for (;;) {
        if (b->stop) {
            pthread_mutex_unlock(&b->mu);
            return vbp_fail(err, VBP_E_INTERRUPTED, "stopped");
        }
        for (size_t i = 0; vc->ahead && i < b->nahead; i++) {
            ahead_buf *a = &b->ahead[i];
            if (a->state != AHEAD_READY || a->clip != jb->clip || a->frame != jb->frame)
                continue;
            pthread_mutex_unlock(&b->mu);
            int rc = a->rc;
            if (rc == VBP_OK)
                memcpy(dst, a->pixels, b->frame_bytes);
            else if (err)
                *err = a->err;
            *input_bytes = a->input_bytes;
            pthread_mutex_lock(&b->mu);
            a->state = AHEAD_FREE;
            vc->ahead--;
            pthread_mutex_unlock(&b->mu);
            return rc;
        }
        if (vc->turn == jb->frame && !vc->busy) {
            int rc = take_turn_and_decode(b, jb->clip, w, input_bytes, err);
            pthread_mutex_unlock(&b->mu);
            return rc ? rc : convert_frame(b, jb->clip, w, dst, err);
        }
        if (!decode_ahead(b, jb->clip, w))
            pthread_cond_wait(&b->turn_passed, &b->mu);
    }
}

/* Decode (or draw) job j into dst, with the worker's reused buffers in w. */
static int run_job(builder *b, const job *jb, uint8_t *dst, worker_ctx *w, uint64_t *input_bytes,
                   vbp_error *err)
{
    const vbp_source_clip *c = &b->ds->clips[jb->clip];
    const vbp_build_opts *o = b->opts;
    size_t size = 0;
    int rc;
    *input_bytes = 0;
    if (jb->kind == VBP_REC_FRAME && c->video)
        return video_frame(b, jb, dst, w, input_bytes, err);
    if (jb->kind == VBP_REC_HEATMAP && !c->heatmaps) {
        const vbp_label *l = &c->labels[jb->frame];
        memset(dst, 0, b->heatmap_bytes);
        if (l->visibility == 1)
            vbp_heatmap_draw(dst, o->width, o->height, l->x, l->y, &b->style);
        *input_bytes = 0;
        return VBP_OK;
    }
    const char *path = jb->kind == VBP_REC_FRAME ? c->frames[jb->frame] : c->heatmaps[jb->frame];
    if ((rc = vbp_file_read(path, &w->buf, &w->cap, &size, err)) != VBP_OK)
        return rc;
    *input_bytes = size;
    if (jb->kind == VBP_REC_FRAME)
        return vbp_png_decode_planar(w->buf, size, path, o->width, o->height, o->frame_channels,
                                     dst, b->frame_bytes, err);
    uint32_t pw, ph, ch;
    if ((rc = vbp_png_probe_mem(w->buf, size, path, &pw, &ph, &ch, err)) != VBP_OK)
        return rc;
    if (ch != 1)
        return vbp_fail(err, VBP_E_GEOMETRY, "%s: heatmap has %u channels, expected 1 (gray)",
                        path, (unsigned)ch);
    return vbp_png_decode_planar(w->buf, size, path, o->width, o->height, 1, dst, b->heatmap_bytes,
                                 err);
}

static void *worker(void *arg)
{
    builder *b = arg;
    worker_ctx w;
    memset(&w, 0, sizeof w);
    pthread_mutex_lock(&b->mu);
    while (!b->stop && b->next_job < b->njobs) {
        uint64_t j = b->next_job++;
        slot *s = &b->slots[j % b->nslots];
        while (!b->stop && j >= b->consumed + b->nslots)
            pthread_cond_wait(&b->slot_freed, &b->mu);
        if (b->stop)
            break;
        s->job = j;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&b->mu);
        vbp_error e;
        vbp_error_clear(&e);
        uint64_t in = 0;
        const job *jb = &b->jobs[j];
        int rc = run_job(b, jb, s->pixels, &w, &in, &e);
        if (rc == VBP_OK)
            rc = vbp_record_encode(b->opts->codec, s->pixels,
                                   jb->kind == VBP_REC_FRAME ? b->frame_bytes : b->heatmap_bytes,
                                   s->scratch, b->scratch_size, &s->rec, &e);
        pthread_mutex_lock(&b->mu);
        s->rc = rc;
        s->err = e;
        s->input_bytes = in;
        s->state = SLOT_READY;
        pthread_cond_broadcast(&b->slot_ready);
    }
    pthread_mutex_unlock(&b->mu);
    free(w.buf);
    vbp_video_frame_free(w.frame);
    vbp_video_frame_free(w.extra);
    vbp_frame_conv_free(w.conv);
    return NULL;
}

static int cancelled(const vbp_build_opts *o)
{
    return o->cancel && *o->cancel;
}

static void source_clip_name(const void *ctx, size_t i, const char **group, const char **name)
{
    const vbp_source_clip *c = &((const vbp_dataset *)ctx)->clips[i];
    *group = c->group;
    *name = c->name;
}

/* Move the clips each name picks (vbp_names.h) to `split`; only train clips move. */
static int apply_split_names(vbp_dataset *ds, const char *const *names, size_t n, vbp_split split,
                             vbp_error *err)
{
    const vbp_name_set set = {ds->count, source_clip_name, ds};
    for (size_t i = 0; i < n; i++) {
        vbp_name_pick pick;
        vbp_error e;
        if (vbp_name_resolve(&set, names[i], VBP_NAME_CLIP_OR_MATCH, &pick, &e) != VBP_OK)
            return vbp_fail(err, VBP_E_ARG, "--%s: %s", vbp_split_name(split), e.detail);
        for (size_t k = 0; k < ds->count; k++) {
            vbp_source_clip *c = &ds->clips[k];
            if (!vbp_name_picks(&set, &pick, k))
                continue;
            if (c->split != VBP_SPLIT_TRAIN && c->split != split) {
                char q[VBP_CLIP_LABEL_MAX], a[160];
                vbp_escape(a, sizeof a, names[i], strlen(names[i]));
                return vbp_fail(err, VBP_E_ARG, "--%s %s: clip '%s' is already in the %s split",
                                vbp_split_name(split), a,
                                vbp_clip_label(q, sizeof q, c->group, c->name),
                                vbp_split_name(c->split));
            }
            c->split = split;
        }
    }
    return VBP_OK;
}

/* A clip's source, for messages: its video or its first frame. */
static const char *where(const vbp_source_clip *c)
{
    return c->video ? c->video : c->frames[0];
}

static int check_unique(const vbp_dataset *ds, vbp_error *err)
{
    for (size_t i = 0; i < ds->count; i++)
        for (size_t k = 0; k < i; k++)
            if (!strcmp(ds->clips[i].name, ds->clips[k].name) &&
                !strcmp(ds->clips[i].group, ds->clips[k].group)) {
                char q[VBP_CLIP_LABEL_MAX];
                return vbp_fail(err, VBP_E_INPUT, "%s: clip '%s' was already read from %s",
                                where(&ds->clips[i]),
                                vbp_clip_label(q, sizeof q, ds->clips[i].group, ds->clips[i].name),
                                where(&ds->clips[k]));
            }
    return VBP_OK;
}

static int scan_all(const vbp_build_opts *o, vbp_dataset *ds, vbp_error *err)
{
    int rc = VBP_OK;
    if (o->source_count == 0)
        return vbp_fail(err, VBP_E_ARG, "no input root given");
    for (size_t i = 0; i < o->source_count && rc == VBP_OK; i++)
        rc = vbp_dataset_scan(ds, o->sources[i].root, o->layout, o->sources[i].split, NULL, err);
    if (rc == VBP_OK)
        rc = check_unique(ds, err);
    /* a video's labels are fractions of its frame: into the pack's pixels */
    for (size_t i = 0; rc == VBP_OK && i < ds->count; i++)
        for (size_t f = 0; ds->clips[i].video && f < ds->clips[i].frame_count; f++) {
            vbp_label *l = &ds->clips[i].labels[f];
            if (l->visibility == 1) {
                l->x = (float)((double)l->x * o->width);
                l->y = (float)((double)l->y * o->height);
            }
        }
    if (rc == VBP_OK)
        rc = apply_split_names(ds, o->val_names, o->val_count, VBP_SPLIT_VAL, err);
    if (rc == VBP_OK)
        rc = apply_split_names(ds, o->test_names, o->test_count, VBP_SPLIT_TEST, err);
    return rc;
}

static job *make_jobs(const vbp_dataset *ds, uint64_t *njobs)
{
    uint64_t n = 0;
    for (size_t c = 0; c < ds->count; c++)
        n += 2 * (uint64_t)ds->clips[c].frame_count;
    job *jobs = malloc((size_t)(n ? n : 1) * sizeof *jobs);
    if (!jobs)
        return NULL;
    uint64_t k = 0;
    for (size_t c = 0; c < ds->count; c++)
        for (int kind = VBP_REC_FRAME; kind <= VBP_REC_HEATMAP; kind++)
            for (size_t f = 0; f < ds->clips[c].frame_count; f++)
                jobs[k++] = (job){(uint32_t)c, (uint32_t)f, (vbp_record_kind)kind};
    *njobs = n;
    return jobs;
}

/* Write every job in order; the workers fill the ring.  Returns the first error in pack order. */
static int write_all(builder *b, vbp_writer *w, vbp_build_stats *st, vbp_error *err)
{
    const vbp_build_opts *o = b->opts;
    uint64_t frames_done = 0, total_frames = b->njobs / 2;
    for (uint64_t j = 0; j < b->njobs; j++) {
        const job *jb = &b->jobs[j];
        const vbp_source_clip *c = &b->ds->clips[jb->clip];
        slot *s = &b->slots[j % b->nslots];
        int rc;
        if (jb->kind == VBP_REC_FRAME && jb->frame == 0 &&
            ((rc = vbp_writer_begin_clip(w, c->name, c->group, c->split, err)) != VBP_OK ||
             (c->video && (rc = vbp_writer_set_source(w, &c->source, err)) != VBP_OK)))
            return rc;
        pthread_mutex_lock(&b->mu);
        while (!(s->state == SLOT_READY && s->job == j) && !cancelled(o)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 50 * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&b->slot_ready, &b->mu, &until);
        }
        pthread_mutex_unlock(&b->mu);
        if (cancelled(o))
            return vbp_fail(err, VBP_E_INTERRUPTED, "interrupted: no pack written");
        if (s->rc != VBP_OK) {
            if (err)
                *err = s->err;
            return s->rc;
        }
        if (jb->kind == VBP_REC_FRAME) {
            rc = vbp_writer_add_frame_encoded(w, &s->rec, c->labels ? &c->labels[jb->frame] : NULL,
                                              err);
            st->pixel_bytes += b->frame_bytes;
        } else {
            rc = vbp_writer_add_heatmap_encoded(w, &s->rec, err);
            st->pixel_bytes += b->heatmap_bytes;
        }
        st->input_bytes += s->input_bytes;
        pthread_mutex_lock(&b->mu);
        s->state = SLOT_FREE;
        b->consumed = j + 1;
        pthread_cond_broadcast(&b->slot_freed);
        pthread_mutex_unlock(&b->mu);
        if (rc != VBP_OK)
            return rc;
        if (jb->kind == VBP_REC_HEATMAP && jb->frame + 1 == c->frame_count &&
            (rc = vbp_writer_end_clip(w, err)) != VBP_OK)
            return rc;
        if (jb->kind == VBP_REC_HEATMAP) {
            frames_done++;
            if (o->progress)
                o->progress(o->progress_ctx, frames_done, total_frames);
        }
    }
    return VBP_OK;
}

static int check_opts(const vbp_build_opts *o, vbp_error *err)
{
    if (o->frame_channels != 1 && o->frame_channels != 3)
        return vbp_fail(err, VBP_E_ARG, "frame channels must be 1 or 3, not %u",
                        (unsigned)o->frame_channels);
    if (o->width == 0 || o->height == 0 || o->width > 16384 || o->height > 16384)
        return vbp_fail(err, VBP_E_ARG, "frame size %ux%u out of range (1..16384)",
                        (unsigned)o->width, (unsigned)o->height);
    if (!(o->radius > 0.0f && o->radius < 1000.0f) || !(o->sigma > 0.0f && o->sigma < 1000.0f))
        return vbp_fail(err, VBP_E_ARG, "heatmap radius and sigma must be in (0, 1000)");
    return VBP_OK;
}

int vbp_build_pack(const char *out_path, const vbp_build_opts *opts, vbp_build_stats *stats,
                   vbp_error *err)
{
    vbp_build_stats st;
    memset(&st, 0, sizeof st);
    double t0 = vbp_now();
    vbp_dataset ds = {0};
    job *jobs = NULL;
    builder b;
    memset(&b, 0, sizeof b);
    pthread_t *threads = NULL;
    size_t started = 0;
    vbp_writer *w = NULL;
    int rc = check_opts(opts, err);
    if (rc == VBP_OK)
        rc = scan_all(opts, &ds, err);
    if (rc != VBP_OK)
        goto out;
    if (!(jobs = make_jobs(&ds, &b.njobs))) {
        rc = vbp_fail(err, VBP_E_NOMEM, "out of memory for the job list");
        goto out;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned nthreads = opts->threads ? opts->threads : (unsigned)(cores > 0 ? cores : 1);
    if (nthreads > 256)
        nthreads = 256;
    b.opts = opts;
    b.ds = &ds;
    b.jobs = jobs;
    b.frame_bytes = (size_t)opts->frame_channels * opts->width * opts->height;
    b.heatmap_bytes = (size_t)opts->width * opts->height;
    b.style.shape = opts->heatmap == VBP_HEATMAP_KIND_GAUSSIAN ? VBP_HEATMAP_GAUSSIAN
                                                                : VBP_HEATMAP_DISC;
    b.style.radius = opts->radius;
    b.style.sigma = opts->sigma;
    b.nslots = 4 * (size_t)nthreads;
    b.slots = calloc(b.nslots, sizeof *b.slots);
    b.videos = calloc(ds.count, sizeof *b.videos);
    threads = calloc(nthreads, sizeof *threads);
    if (!b.slots || !threads || !b.videos) {
        rc = vbp_fail(err, VBP_E_NOMEM, "out of memory for the decode ring");
        goto out;
    }
    if (opts->codec == VBP_CODEC_LZ4)
        b.scratch_size = vbp_record_encode_bound(b.frame_bytes);
    for (size_t i = 0; i < b.nslots; i++)
        if (!(b.slots[i].pixels = malloc(b.frame_bytes)) ||
            (b.scratch_size && !(b.slots[i].scratch = malloc(b.scratch_size)))) {
            rc = vbp_fail(err, VBP_E_NOMEM, "out of memory for the decode ring");
            goto out;
        }
    /* decoding ahead needs a second video clip and a second thread */
    size_t video_clips = 0;
    for (size_t i = 0, first = 0; i < ds.count; first += 2 * ds.clips[i].frame_count, i++) {
        b.videos[i].first_job = first;
        video_clips += ds.clips[i].video != NULL;
    }
    if (video_clips > 1 && nthreads > 1) {
        vbp_memlimit m;
        uint64_t quarter = vbp_memlimit_read(NULL, &m) / 4;
        uint64_t budget = quarter > AHEAD_DECODER ? quarter - AHEAD_DECODER : 0;
        b.nahead = (size_t)((budget < AHEAD_BYTES ? budget : AHEAD_BYTES) / b.frame_bytes);
    }
    if (b.nahead && !(b.ahead = calloc(b.nahead, sizeof *b.ahead)))
        b.nahead = 0;
    for (size_t i = 0; i < b.nahead; i++)
        if (!(b.ahead[i].pixels = malloc(b.frame_bytes))) {
            b.nahead = i; /* fewer buffers: less look-ahead, the same pack */
            break;
        }
    vbp_writer_opts wo = {
        .geometry = {opts->height, opts->width, opts->frame_channels, 1},
        .codec = opts->codec,
        .overwrite = opts->overwrite,
    };
    if ((rc = vbp_writer_open(out_path, &wo, &w, err)) != VBP_OK) {
        w = NULL;
        goto out;
    }
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.slot_freed, NULL);
    pthread_cond_init(&b.slot_ready, NULL);
    pthread_cond_init(&b.turn_passed, NULL);
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, worker, &b) != 0)
            break;
    if (started == 0)
        rc = vbp_fail(err, VBP_E_NOMEM, "cannot start a decoding thread");
    else
        rc = write_all(&b, w, &st, err);
    pthread_mutex_lock(&b.mu);
    b.stop = 1;
    pthread_cond_broadcast(&b.slot_freed);
    pthread_cond_broadcast(&b.turn_passed);
    pthread_mutex_unlock(&b.mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&b.turn_passed);
    pthread_cond_destroy(&b.slot_ready);
    pthread_cond_destroy(&b.slot_freed);
    pthread_mutex_destroy(&b.mu);
    if (rc == VBP_OK && cancelled(opts))
        rc = vbp_fail(err, VBP_E_INTERRUPTED, "interrupted: no pack written");
    if (rc == VBP_OK) {
        rc = vbp_writer_finish(w, err);
        w = NULL;
    }
    if (rc == VBP_OK) {
        struct stat sb;
        st.pack_bytes = stat(out_path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        st.threads = started;
        st.clips = ds.count;
        for (size_t i = 0; i < ds.count; i++) {
            st.frames += ds.clips[i].frame_count;
            st.clips_per_split[ds.clips[i].split]++;
            st.frames_per_split[ds.clips[i].split] += ds.clips[i].frame_count;
            st.labelled_clips += ds.clips[i].labels != NULL;
        }
    }
out:
    if (w)
        vbp_writer_abort(w);
    if (b.slots)
        for (size_t i = 0; i < b.nslots; i++) {
            free(b.slots[i].pixels);
            free(b.slots[i].scratch);
        }
    free(b.slots);
    for (size_t i = 0; i < b.nahead; i++)
        free(b.ahead[i].pixels);
    free(b.ahead);
    for (size_t i = 0; b.videos && i < ds.count; i++) /* left open by a stop */
        vbp_video_close(b.videos[i].v);
    free(b.videos);
    free(threads);
    free(jobs);
    vbp_dataset_free(&ds);
    st.seconds = vbp_now() - t0;
    if (stats)
        *stats = st;
    return rc;
}

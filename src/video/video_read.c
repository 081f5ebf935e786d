/*
 * video_read.c - video files -> planar frames, the way OpenCV's converters
 * make them (vbp_video.h): libavformat demuxes, libavcodec decodes
 * (strictly), libswscale converts each frame to BGR24 exactly as
 * cv2.VideoCapture does (the frame's coded size, SWS_BICUBIC, rows aligned
 * to 32 bytes), and resize_area.c shrinks it as cv2.resize(INTER_AREA).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include "gray.h"
#include "internal.h"
#include "resize.h"
#include "video_ffmpeg.h"
#include "video_internal.h"

/* ------------------------------------------------------------ FFmpeg's log */

static _Thread_local char last_log[256];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* Keep the last error-level line of this thread ("h264: error while decoding MB ..."); print nothing. */
static void log_cb(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_ERROR)
        return;
    const AVClass *cls = avcl ? *(const AVClass *const *)avcl : NULL;
    char msg[200];
    vsnprintf(msg, sizeof msg, fmt, vl);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (n)
        snprintf(last_log, sizeof last_log, "%s%s%s", cls ? cls->item_name(avcl) : "",
                 cls ? ": " : "", msg);
}

static void install_log(void)
{
    av_log_set_callback(log_cb);
}

void vbp_av_quiet(void)
{
    pthread_once(&log_once, install_log);
}

int vbp_av_fail(vbp_error *err, int code, int averr, const char *fmt, ...)
{
    char what[VBP_ERROR_DETAIL_MAX], reason[AV_ERROR_MAX_STRING_SIZE] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (averr < 0)
        av_strerror(averr, reason, sizeof reason);
    int rc = last_log[0] ? vbp_fail(err, code, "%s (%s%s%s)", what, reason, reason[0] ? "; " : "",
                                    last_log)
                         : vbp_fail(err, code, "%s (%s)", what, reason[0] ? reason : "no detail");
    last_log[0] = '\0';
    return rc;
}

/* ------------------------------------------------------------ opening */

struct vbp_video {
    char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    int stream;
    int flushed;              /* end of file reached, decoder drained with a NULL packet */
    uint64_t decoded;         /* frames returned so far */
    vbp_video_info info;
    vbp_video_frame *frame;   /* vbp_video_read's */
    vbp_frame_conv *conv;
};

struct vbp_video_frame {
    AVFrame *av;
    int coded_width, coded_height; /* the decoder's, which OpenCV converts */
};

int vbp_video_available(void)
{
    return 1;
}

/* Errors opening a file: unreadable is VBP_E_IO, anything else bad input. */
static int open_code(int averr)
{
    return averr == AVERROR(ENOENT) || averr == AVERROR(EACCES) || averr == AVERROR(EISDIR) ||
           averr == AVERROR(EIO) || averr == AVERROR(EPERM) ? VBP_E_IO : VBP_E_INPUT;
}

/* Open the container at path and find its video stream; fill info (frames: the container's). */
static int open_input(const char *path, AVFormatContext **fmt, int *stream, vbp_video_info *info,
                      vbp_error *err)
{
    vbp_av_quiet();
    memset(info, 0, sizeof *info);
    struct stat st;
    if (stat(path, &st) != 0)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open video (%s)", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vbp_fail(err, VBP_E_IO, "%s: not a regular file", path);
    if (st.st_size == 0)
        return vbp_fail(err, VBP_E_INPUT, "%s: empty file (0 bytes), not a video", path);
    info->bytes = (uint64_t)st.st_size;
    int r = avformat_open_input(fmt, path, NULL, NULL);
    if (r < 0)
        return vbp_av_fail(err, open_code(r), r, "%s: cannot open video", path);
    if ((r = avformat_find_stream_info(*fmt, NULL)) < 0)
        return vbp_av_fail(err, VBP_E_INPUT, r, "%s: not a readable video", path);
    if ((r = av_find_best_stream(*fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0)) < 0)
        return vbp_av_fail(err, VBP_E_INPUT, r, "%s: no video stream", path);
    *stream = r;
    const AVStream *s = (*fmt)->streams[r];
    if (s->codecpar->width <= 0 || s->codecpar->height <= 0 || s->codecpar->width > 65535 ||
        s->codecpar->height > 65535)
        return vbp_fail(err, VBP_E_INPUT, "%s: video frame size %dx%d unknown or out of range",
                        path, s->codecpar->width, s->codecpar->height);
    if (!avcodec_find_decoder(s->codecpar->codec_id))
        return vbp_fail(err, VBP_E_INPUT, "%s: no decoder for its codec (%s) in this FFmpeg", path,
                        avcodec_get_name(s->codecpar->codec_id));
    info->width = (uint32_t)s->codecpar->width;
    info->height = (uint32_t)s->codecpar->height;
    AVRational fps = s->avg_frame_rate.num > 0 && s->avg_frame_rate.den > 0 ? s->avg_frame_rate
                                                                             : s->r_frame_rate;
    int num = 0, den = 0;
    if (fps.num > 0 && fps.den > 0)
        av_reduce(&num, &den, fps.num, fps.den, 65535);
    info->fps_num = num > 0 && den > 0 ? (uint32_t)num : 0;
    info->fps_den = num > 0 && den > 0 ? (uint32_t)den : 0;
    info->frames = s->nb_frames > 0 ? (uint64_t)s->nb_frames : 0;
    return VBP_OK;
}

int vbp_video_probe(const char *path, vbp_video_info *info, vbp_error *err)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = NULL;
    int stream = -1, r = 0;
    int rc = open_input(path, &fmt, &stream, info, err);
    if (!rc && !(pkt = av_packet_alloc()))
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    uint64_t claimed = info->frames, n = 0;
    while (!rc && (r = av_read_frame(fmt, pkt)) >= 0) {
        if (pkt->stream_index == stream && !(pkt->flags & AV_PKT_FLAG_DISCARD))
            n++;
        if (pkt->stream_index == stream && (pkt->flags & AV_PKT_FLAG_CORRUPT))
            rc = vbp_fail(err, VBP_E_INPUT, "%s: frame %llu is cut short or corrupt (truncated "
                          "file?)", path, (unsigned long long)(n - 1));
        av_packet_unref(pkt);
    }
    if (!rc && r != AVERROR_EOF)
        rc = vbp_av_fail(err, VBP_E_INPUT, r, "%s: unreadable after %llu frames", path,
                         (unsigned long long)n);
    /* A container that lists more frames than the file holds was cut short. */
    if (!rc && claimed && n < claimed)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: truncated: %llu of the %llu frames its index lists "
                      "are in the file", path, (unsigned long long)n, (unsigned long long)claimed);
    if (!rc && n == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: the video has no frames", path);
    if (!rc)
        info->frames = n;
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return rc;
}

void vbp_video_close(vbp_video *v)
{
    if (!v)
        return;
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    av_packet_free(&v->pkt);
    vbp_video_frame_free(v->frame);
    vbp_frame_conv_free(v->conv);
    free(v->path);
    free(v);
}

int vbp_video_open(const char *path, unsigned threads, vbp_video **out, vbp_error *err)
{
    *out = NULL;
    vbp_video *v = calloc(1, sizeof *v);
    if (!v || !(v->path = strdup(path))) {
        free(v);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    }
    int rc = open_input(path, &v->fmt, &v->stream, &v->info, err);
    const AVStream *s = rc ? NULL : v->fmt->streams[v->stream];
    const AVCodec *codec = s ? avcodec_find_decoder(s->codecpar->codec_id) : NULL;
    if (!rc && (!(v->pkt = av_packet_alloc()) || !(v->dec = avcodec_alloc_context3(codec))))
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    if (!rc) {
        int r = avcodec_parameters_to_context(v->dec, s->codecpar);
        v->dec->thread_count = (int)threads;
        v->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
        v->dec->err_recognition |= AV_EF_EXPLODE; /* a damaged frame is an error, not concealed */
        v->dec->pkt_timebase = s->time_base;
        if (r >= 0)
            r = avcodec_open2(v->dec, codec, NULL);
        if (r < 0)
            rc = vbp_av_fail(err, VBP_E_INPUT, r, "%s: cannot open the %s decoder", path,
                             codec->name);
    }
    if (rc) {
        vbp_video_close(v);
        return rc;
    }
    *out = v;
    return VBP_OK;
}

const vbp_video_info *vbp_video_get_info(const vbp_video *v)
{
    return &v->info;
}

/* ------------------------------------------------------------ decoding */

vbp_video_frame *vbp_video_frame_new(void)
{
    vbp_video_frame *f = calloc(1, sizeof *f);
    if (f && !(f->av = av_frame_alloc())) {
        free(f);
        f = NULL;
    }
    return f;
}

void vbp_video_frame_free(vbp_video_frame *f)
{
    if (f) {
        av_frame_free(&f->av);
        free(f);
    }
}

int vbp_video_next(vbp_video *v, vbp_video_frame *f, vbp_error *err)
{
    for (;;) {
        int r = avcodec_receive_frame(v->dec, f->av);
        if (r >= 0) {
            if ((uint32_t)f->av->width != v->info.width || (uint32_t)f->av->height != v->info.height)
                return vbp_fail(err, VBP_E_INPUT, "%s: frame %llu is %dx%d, the video is %ux%u",
                                v->path, (unsigned long long)v->decoded, f->av->width,
                                f->av->height, v->info.width, v->info.height);
            f->coded_width = v->dec->coded_width >= f->av->width ? v->dec->coded_width
                                                                 : f->av->width;
            f->coded_height = v->dec->coded_height >= f->av->height ? v->dec->coded_height
                                                                    : f->av->height;
            v->decoded++;
            return 1;
        }
        if (r == AVERROR_EOF)
            return 0;
        if (r != AVERROR(EAGAIN) || v->flushed)
            return vbp_av_fail(err, VBP_E_INPUT, r, "%s: frame %llu does not decode", v->path,
                               (unsigned long long)v->decoded);
        r = av_read_frame(v->fmt, v->pkt);
        if (r == AVERROR_EOF) {
            v->flushed = 1;
            r = avcodec_send_packet(v->dec, NULL);
        } else if (r < 0) {
            return vbp_av_fail(err, VBP_E_INPUT, r, "%s: unreadable after frame %llu", v->path,
                               (unsigned long long)v->decoded);
        } else {
            if (v->pkt->stream_index == v->stream)
                r = avcodec_send_packet(v->dec, v->pkt);
            av_packet_unref(v->pkt);
        }
        if (r < 0 && r != AVERROR(EAGAIN))
            return vbp_av_fail(err, VBP_E_INPUT, r, "%s: frame %llu does not decode", v->path,
                               (unsigned long long)v->decoded);
    }
}

/* ------------------------------------------------------------ conversion */

struct vbp_frame_conv {
    struct SwsContext *sws;
    int coded_width, coded_height, format; /* what sws and bgr are for */
    uint8_t *bgr;                          /* coded_height rows of `stride`, + VBP_AREA_PAD */
    int stride;
    vbp_area *shrink, *copy;               /* frame size -> dst size / -> own size (rgb) */
    uint32_t sw, sh, dw, dh;
    uint8_t *planes;                       /* 3 * dw * dh for gray output */
};

vbp_frame_conv *vbp_frame_conv_new(void)
{
    return calloc(1, sizeof(vbp_frame_conv));
}

void vbp_frame_conv_free(vbp_frame_conv *c)
{
    if (!c)
        return;
    sws_freeContext(c->sws);
    free(c->bgr);
    vbp_area_free(c->shrink);
    vbp_area_free(c->copy);
    free(c->planes);
    free(c);
}

/* (Re)build what converting frames of f's size and format to width x height needs. */
static int conv_prepare(vbp_frame_conv *c, const vbp_video_frame *f, const char *name,
                        uint32_t width, uint32_t height, uint32_t channels, int want_rgb,
                        vbp_error *err)
{
    const AVFrame *a = f->av;
    if (!c->sws || c->coded_width != f->coded_width || c->coded_height != f->coded_height ||
        c->format != a->format) {
        c->sws = sws_getCachedContext(c->sws, f->coded_width, f->coded_height, a->format,
                                      f->coded_width, f->coded_height, AV_PIX_FMT_BGR24,
                                      SWS_BICUBIC, NULL, NULL, NULL);
        free(c->bgr);
        c->stride = FFALIGN(3 * f->coded_width, 32);
        /* zeroed: the area filter reads (with weight 0) the bytes sws never writes */
        c->bgr = calloc((size_t)c->stride * (size_t)f->coded_height + VBP_AREA_PAD, 1);
        c->coded_width = f->coded_width;
        c->coded_height = f->coded_height;
        c->format = a->format;
        if (!c->sws || !c->bgr) {
            c->coded_width = 0;
            return vbp_fail(err, c->bgr ? VBP_E_INPUT : VBP_E_NOMEM,
                            "%s: cannot convert %s frames of %dx%d to BGR", name,
                            av_get_pix_fmt_name(a->format), f->coded_width, f->coded_height);
        }
    }
    uint32_t sw = (uint32_t)a->width, sh = (uint32_t)a->height;
    if (!c->shrink || c->sw != sw || c->sh != sh || c->dw != width || c->dh != height) {
        vbp_area_free(c->shrink);
        vbp_area_free(c->copy);
        free(c->planes);
        c->shrink = NULL;
        c->copy = NULL;
        c->planes = NULL;
        c->sw = sw, c->sh = sh, c->dw = width, c->dh = height;
        if (width > sw || height > sh || !width || !height)
            return vbp_fail(err, VBP_E_GEOMETRY, "%s: video is %ux%u, smaller than %ux%u (frames "
                            "are only shrunk)", name, sw, sh, width, height);
        int rc = vbp_area_create(sw, sh, width, height, &c->shrink, err);
        if (rc)
            return rc;
    }
    if (channels == 1 && !c->planes && !(c->planes = malloc(3 * (size_t)width * height)))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", name);
    if (want_rgb && !c->copy)
        return vbp_area_create(sw, sh, sw, sh, &c->copy, err);
    return VBP_OK;
}

int vbp_frame_conv_run(vbp_frame_conv *c, const vbp_video_frame *f, const char *name,
                       uint32_t width, uint32_t height, uint32_t channels, uint8_t *dst,
                       uint8_t *rgb, vbp_error *err)
{
    if (channels != 1 && channels != 3)
        return vbp_fail(err, VBP_E_ARG, "%s: %u channels (1 or 3)", name, channels);
    int rc = conv_prepare(c, f, name, width, height, channels, rgb != NULL, err);
    if (rc)
        return rc;
    uint8_t *out[4] = { c->bgr, NULL, NULL, NULL };
    int lines[4] = { c->stride, 0, 0, 0 };
    sws_scale(c->sws, (const uint8_t *const *)f->av->data, f->av->linesize, 0, f->coded_height,
              out, lines);
    if (rgb)
        vbp_area_run(c->copy, c->bgr, (size_t)c->stride, rgb);
    uint8_t *planes = channels == 3 ? dst : c->planes;
    vbp_area_run(c->shrink, c->bgr, (size_t)c->stride, planes);
    if (channels == 1) {
        const size_t n = (size_t)width * height;
        for (size_t i = 0; i < n; i++)
            dst[i] = vbp_gray(planes[i], planes[n + i], planes[2 * n + i]);
    }
    return VBP_OK;
}

int vbp_video_read(vbp_video *v, uint32_t width, uint32_t height, uint32_t channels, uint8_t *dst,
                   uint8_t *rgb, vbp_error *err)
{
    if (!v->frame && !(v->frame = vbp_video_frame_new()))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", v->path);
    if (!v->conv && !(v->conv = vbp_frame_conv_new()))
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", v->path);
    int rc = vbp_video_next(v, v->frame, err);
    if (rc <= 0)
        return rc;
    rc = vbp_frame_conv_run(v->conv, v->frame, v->path, width, height, channels, dst, rgb, err);
    return rc ? rc : 1;
}

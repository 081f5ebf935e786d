/*
 * video_write.c - planar RGB frames -> an H.264 video (vbp_video.h): libswscale
 * to 4:2:0, libavcodec's H.264 encoder (libx264 in Debian: preset superfast,
 * CRF 23), libavformat's muxer for the target's extension (MP4 and MOV with
 * the index first), written beside the target and renamed into place when
 * finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include "atomic.h"
#include "video_ffmpeg.h"
#include "vbp_video.h"

struct vbp_video_writer {
    char *path, *tmp;
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    uint32_t width, height; /* of the frames given */
    int64_t pts;
};

static void writer_free(vbp_video_writer *w, int remove_tmp)
{
    if (w->oc && w->oc->pb)
        avio_closep(&w->oc->pb);
    if (remove_tmp && w->tmp)
        unlink(w->tmp);
    avformat_free_context(w->oc);
    avcodec_free_context(&w->enc);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    sws_freeContext(w->sws);
    free(w->path);
    free(w->tmp);
    free(w);
}

void vbp_video_writer_abort(vbp_video_writer *w)
{
    if (w)
        writer_free(w, 1);
}

/* Send frame (NULL: flush) to the encoder and write every packet it has ready. */
static int encode(vbp_video_writer *w, AVFrame *frame, vbp_error *err)
{
    int r = avcodec_send_frame(w->enc, frame);
    while (r >= 0) {
        r = avcodec_receive_packet(w->enc, w->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return VBP_OK;
        if (r < 0)
            break;
        if (w->pkt->duration <= 0) /* one frame: the muxer then knows the last frame's length */
            w->pkt->duration = 1;
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        r = av_interleaved_write_frame(w->oc, w->pkt);
        if (r < 0)
            return vbp_av_fail(err, VBP_E_IO, r, "%s: cannot write video", w->tmp);
    }
    return vbp_av_fail(err, VBP_E_IO, r, "%s: encoding frame %lld failed", w->path,
                       (long long)w->pts);
}

int vbp_video_writer_open(const char *path, uint32_t width, uint32_t height, uint32_t fps_num,
                          uint32_t fps_den, vbp_video_writer **out, vbp_error *err)
{
    *out = NULL;
    vbp_av_quiet();
    if (width < 2 || height < 2 || width > 16384 || height > 16384)
        return vbp_fail(err, VBP_E_ARG, "%s: cannot encode %ux%u frames", path, width, height);
    vbp_video_writer *w = calloc(1, sizeof *w);
    if (!w)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    if (!(w->path = strdup(path)) || asprintf(&w->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        w->tmp = NULL;
        writer_free(w, 0);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    }
    w->width = width;
    w->height = height;
    /* the container named by the target, the file the temporary one (faststart re-opens it) */
    const AVOutputFormat *fmt = av_guess_format(NULL, path, NULL);
    int rc = VBP_OK, r = fmt ? avformat_alloc_output_context2(&w->oc, fmt, NULL, w->tmp) : -1;
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    if (r < 0 || !w->oc)
        rc = vbp_av_fail(err, VBP_E_ARG, r, "%s: no video container for this name (use .mp4, "
                         ".mkv or .mov)", path);
    else if (!codec)
        rc = vbp_fail(err, VBP_E_UNSUPPORTED, "%s: this FFmpeg has no H.264 encoder (Debian's "
                      "libavcodec has libx264)", path);
    else if (!(w->st = avformat_new_stream(w->oc, NULL)) ||
             !(w->enc = avcodec_alloc_context3(codec)) || !(w->frame = av_frame_alloc()) ||
             !(w->pkt = av_packet_alloc()))
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    if (!rc) {
        AVCodecContext *e = w->enc;
        e->width = (int)(width & ~1u);
        e->height = (int)(height & ~1u);
        e->pix_fmt = AV_PIX_FMT_YUV420P;
        e->framerate = fps_num && fps_den ? (AVRational){ (int)fps_num, (int)fps_den }
                                          : (AVRational){ 30, 1 };
        e->time_base = av_inv_q(e->framerate);
        if (w->oc->oformat->flags & AVFMT_GLOBALHEADER)
            e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        av_opt_set(e->priv_data, "preset", "superfast", 0); /* libx264's; others ignore them */
        av_opt_set(e->priv_data, "crf", "23", 0);
        if ((r = avcodec_open2(e, codec, NULL)) < 0 ||
            (r = avcodec_parameters_from_context(w->st->codecpar, e)) < 0)
            rc = vbp_av_fail(err, VBP_E_IO, r, "%s: cannot start the %s encoder", path,
                             codec->name);
        w->st->time_base = e->time_base;
    }
    if (!rc && (r = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0)
        rc = vbp_av_fail(err, VBP_E_IO, r, "%s: cannot create", w->tmp);
    if (!rc) {
        AVDictionary *mux = NULL; /* mp4/mov: the index first, so that a cut file still opens */
        av_dict_set(&mux, "movflags", "+faststart", 0);
        if ((r = avformat_write_header(w->oc, &mux)) < 0)
            rc = vbp_av_fail(err, VBP_E_IO, r, "%s: cannot write the video header", w->tmp);
        av_dict_free(&mux);
    }
    if (!rc) {
        w->frame->format = AV_PIX_FMT_YUV420P;
        w->frame->width = w->enc->width;
        w->frame->height = w->enc->height;
        w->sws = sws_getContext((int)width, (int)height, AV_PIX_FMT_GBRP, w->enc->width,
                                w->enc->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if ((r = av_frame_get_buffer(w->frame, 0)) < 0 || !w->sws)
            rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory for the encoder's frames", path);
    }
    if (rc) {
        writer_free(w, 1);
        return rc;
    }
    *out = w;
    return VBP_OK;
}

int vbp_video_writer_add(vbp_video_writer *w, const uint8_t *rgb, vbp_error *err)
{
    int r = av_frame_make_writable(w->frame);
    if (r < 0)
        return vbp_av_fail(err, VBP_E_NOMEM, r, "%s: no frame buffer", w->path);
    const size_t plane = (size_t)w->width * w->height;
    const uint8_t *src[4] = { rgb + plane, rgb + 2 * plane, rgb, NULL }; /* GBRP: G, B, R */
    const int lines[4] = { (int)w->width, (int)w->width, (int)w->width, 0 };
    sws_scale(w->sws, src, lines, 0, (int)w->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->pts++;
    return encode(w, w->frame, err);
}

int vbp_video_writer_finish(vbp_video_writer *w, vbp_error *err)
{
    int rc = encode(w, NULL, err), r = 0;
    if (!rc && (r = av_write_trailer(w->oc)) < 0)
        rc = vbp_av_fail(err, VBP_E_IO, r, "%s: cannot finish the video", w->tmp);
    if (!rc && (r = avio_closep(&w->oc->pb)) < 0)
        rc = vbp_av_fail(err, VBP_E_IO, r, "%s: cannot write", w->tmp);
    if (!rc) { /* durable before it takes the target's name */
        int fd = open(w->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            rc = vbp_fail(err, VBP_E_IO, "%s: cannot sync: %s", w->tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (!rc && rename(w->tmp, w->path) != 0)
        rc = vbp_fail(err, VBP_E_IO, "%s: cannot rename into place: %s", w->path, strerror(errno));
    if (!rc)
        rc = vbp_fsync_parent(w->path, err);
    writer_free(w, rc != VBP_OK);
    return rc;
}

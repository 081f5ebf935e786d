/*
 * vbp_video.h - frames from video files, and videos written from frames,
 * through FFmpeg (libavformat, libavcodec, libswscale).
 *
 * A frame comes out as OpenCV hands it to the trainers of the TrackNet
 * family: decoded by libavcodec, converted to BGR by libswscale exactly as
 * cv2.VideoCapture does, shrunk with cv2.resize's INTER_AREA (bit for bit:
 * src/image/resize.h), then channel-planar R, G, B or gray by the pack's
 * formula (formats/vbpack.md).  So frames read here equal, byte for byte,
 * the PNGs the OpenCV converters write from the same video on the same
 * machine, and vbpack and vbtrain track see what those users trained on.
 *
 * Decoding is strict: a bitstream error is an error (libavcodec's
 * AV_EF_EXPLODE), never a concealed frame.  FFmpeg's log is routed through
 * the library the first time a video is opened: its messages are kept for
 * error details and not printed (an application that wants FFmpeg's log
 * sets its own av_log callback afterwards).
 *
 * Built without FFmpeg (meson -Dffmpeg=disabled), vbp_video_available()
 * returns 0 and every other function fails with VBP_E_UNSUPPORTED.
 */
#ifndef VBP_VIDEO_H
#define VBP_VIDEO_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vbp_video_info {
    uint32_t width, height;    /* frame size in pixels */
    uint32_t fps_num, fps_den; /* average frame rate, reduced to fit 16 bits each; 0/0 unknown */
    uint64_t frames;           /* vbp_video_probe: the stream's frames, counted; vbp_video_open:
                                  the container's claim (0 when it makes none) */
    uint64_t bytes;            /* size of the file */
} vbp_video_info;

/* 1 when the library was built with FFmpeg, else 0. */
int vbp_video_available(void);

/*
 * Size, frame rate and frame count of the video at path, reading the
 * container only (every packet of the video stream is counted, none is
 * decoded: milliseconds for a clip).  Fails with VBP_E_IO (cannot open,
 * unreadable), VBP_E_INPUT (not a video, no video stream, no frames, no
 * decoder for its codec), naming the file.
 */
int vbp_video_probe(const char *path, vbp_video_info *info, vbp_error *err);

typedef struct vbp_video vbp_video;

/*
 * Open path for decoding with `threads` decoding threads inside libavcodec
 * (0: libavcodec's choice, 1: none).  Same failures as vbp_video_probe.
 */
int vbp_video_open(const char *path, unsigned threads, vbp_video **out, vbp_error *err);
const vbp_video_info *vbp_video_get_info(const vbp_video *v);
void vbp_video_close(vbp_video *v);

/*
 * Decode the next frame: `channels` (1 or 3) planes of width x height at dst
 * (shrunk as above: width <= the video's width, height <= its height, else
 * VBP_E_GEOMETRY), and, when rgb is not NULL, the frame at the video's own
 * size as 3 planes R, G, B there.  Returns 1 with a frame, 0 after the last
 * one, or an error naming the file and the frame: VBP_E_INPUT (corrupt or
 * truncated data, a frame of another size), VBP_E_IO, VBP_E_NOMEM.
 */
int vbp_video_read(vbp_video *v, uint32_t width, uint32_t height, uint32_t channels, uint8_t *dst,
                   uint8_t *rgb, vbp_error *err);

typedef struct vbp_video_writer vbp_video_writer;

/*
 * Start an H.264 video of width x height frames at fps_num/fps_den frames
 * per second at path (container from its extension: .mp4, .mkv, .mov),
 * written to "path.tmp.<pid>" and renamed into place by finish: nothing
 * appears at path on failure.  An existing path is replaced.  Odd sizes are
 * encoded one pixel smaller (4:2:0 needs even sizes).  Fails with
 * VBP_E_UNSUPPORTED when FFmpeg has no H.264 encoder, VBP_E_ARG, VBP_E_IO.
 */
int vbp_video_writer_open(const char *path, uint32_t width, uint32_t height, uint32_t fps_num,
                          uint32_t fps_den, vbp_video_writer **out, vbp_error *err);
/* Encode one frame: 3 planes R, G, B of width x height. */
int vbp_video_writer_add(vbp_video_writer *w, const uint8_t *rgb, vbp_error *err);
/* Flush the encoder, finish the file, fsync and rename it into place; frees w (also on failure). */
int vbp_video_writer_finish(vbp_video_writer *w, vbp_error *err);
/* Drop the temporary file and free w (NULL is fine). */
void vbp_video_writer_abort(vbp_video_writer *w);

#ifdef __cplusplus
}
#endif
#endif

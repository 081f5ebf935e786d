/*
 * video_internal.h - vbp_video_read in two steps, for the packer (internal).
 *
 * Decoding a video is sequential, converting its frames is not: the packer's
 * workers take turns to pull the next decoded frame of a clip
 * (vbp_video_next, cheap when libavcodec decodes ahead on its own threads)
 * and convert it in parallel, each with its own converter.
 */
#ifndef VBP_VIDEO_INTERNAL_H
#define VBP_VIDEO_INTERNAL_H

#include <stdint.h>
#include "vbp_video.h"

/* A decoded frame, held (reference-counted inside libavcodec) until the next vbp_video_next. */
typedef struct vbp_video_frame vbp_video_frame;

vbp_video_frame *vbp_video_frame_new(void); /* NULL when out of memory */
void vbp_video_frame_free(vbp_video_frame *f);

/*
 * Decode the next frame of v into f (replacing what f held).  1 with a
 * frame, 0 after the last one, or an error as vbp_video_read's.  The frame
 * must have the size vbp_video_get_info states.
 */
int vbp_video_next(vbp_video *v, vbp_video_frame *f, vbp_error *err);

/* Converts decoded frames to packed planes; keeps its buffers between frames of one size. */
typedef struct vbp_frame_conv vbp_frame_conv;

vbp_frame_conv *vbp_frame_conv_new(void); /* NULL when out of memory */
void vbp_frame_conv_free(vbp_frame_conv *c);

/*
 * The conversion step of vbp_video_read: frame f (decoded from the video
 * `name`, for messages) into `channels` planes of width x height at dst and,
 * when rgb is not NULL, 3 planes at the frame's own size.
 */
int vbp_frame_conv_run(vbp_frame_conv *c, const vbp_video_frame *f, const char *name,
                       uint32_t width, uint32_t height, uint32_t channels, uint8_t *dst,
                       uint8_t *rgb, vbp_error *err);

#endif

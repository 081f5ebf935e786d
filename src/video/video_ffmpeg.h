/*
 * video_ffmpeg.h - what video_read.c and video_write.c share about FFmpeg (internal).
 */
#ifndef VBP_VIDEO_FFMPEG_H
#define VBP_VIDEO_FFMPEG_H

#include "internal.h"

/* Route FFmpeg's log into this thread's last error line, printing nothing (once per process). */
void vbp_av_quiet(void);

/*
 * vbp_fail with "WHAT (FFmpeg's text for averr; the last error FFmpeg
 * logged on this thread)"; averr >= 0 adds no code text.  Returns code.
 */
int vbp_av_fail(vbp_error *err, int code, int averr, const char *fmt, ...) VBP_PRINTF(4, 5);

#endif

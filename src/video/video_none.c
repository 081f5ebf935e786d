/*
 * video_none.c - vbp_video.h in a build without FFmpeg (meson -Dffmpeg=disabled):
 * every call says so.
 */
#include "internal.h"
#include "video_internal.h"

static int none(const char *path, vbp_error *err)
{
    return vbp_fail(err, VBP_E_UNSUPPORTED, "%s: this vbpack was built without FFmpeg: no video "
                    "input or output (install libavformat-dev libavcodec-dev libswscale-dev "
                    "libavutil-dev and rebuild, or convert the videos to PNGs)", path ? path : "video");
}

int vbp_video_available(void) { return 0; }

int vbp_video_probe(const char *path, vbp_video_info *info, vbp_error *err)
{
    (void)info;
    return none(path, err);
}

int vbp_video_open(const char *path, unsigned threads, vbp_video **out, vbp_error *err)
{
    (void)threads;
    *out = NULL;
    return none(path, err);
}

const vbp_video_info *vbp_video_get_info(const vbp_video *v)
{
    (void)v;
    return NULL;
}

void vbp_video_close(vbp_video *v) { (void)v; }

int vbp_video_read(vbp_video *v, uint32_t width, uint32_t height, uint32_t channels, uint8_t *dst,
                   uint8_t *rgb, vbp_error *err)
{
    (void)v, (void)width, (void)height, (void)channels, (void)dst, (void)rgb;
    return none(NULL, err);
}

int vbp_video_writer_open(const char *path, uint32_t width, uint32_t height, uint32_t fps_num,
                          uint32_t fps_den, vbp_video_writer **out, vbp_error *err)
{
    (void)width, (void)height, (void)fps_num, (void)fps_den;
    *out = NULL;
    return none(path, err);
}

int vbp_video_writer_add(vbp_video_writer *w, const uint8_t *rgb, vbp_error *err)
{
    (void)w, (void)rgb;
    return none(NULL, err);
}

int vbp_video_writer_finish(vbp_video_writer *w, vbp_error *err)
{
    (void)w;
    return none(NULL, err);
}

void vbp_video_writer_abort(vbp_video_writer *w) { (void)w; }

vbp_video_frame *vbp_video_frame_new(void) { return NULL; }
void vbp_video_frame_free(vbp_video_frame *f) { (void)f; }

int vbp_video_next(vbp_video *v, vbp_video_frame *f, vbp_error *err)
{
    (void)v, (void)f;
    return none(NULL, err);
}

vbp_frame_conv *vbp_frame_conv_new(void) { return NULL; }
void vbp_frame_conv_free(vbp_frame_conv *c) { (void)c; }

int vbp_frame_conv_run(vbp_frame_conv *c, const vbp_video_frame *f, const char *name,
                       uint32_t width, uint32_t height, uint32_t channels, uint8_t *dst,
                       uint8_t *rgb, vbp_error *err)
{
    (void)c, (void)f, (void)width, (void)height, (void)channels, (void)dst, (void)rgb;
    return none(name, err);
}

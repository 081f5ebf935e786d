/*
 * png_write.c - writing channel-planar uint8 images as 8-bit PNG files.
 *
 * The file appears at its path only when complete (atomic.h: temporary
 * file, fsync, rename over the target, fsync of the directory).  On any
 * failure the temporary file is removed and the target is left as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "internal.h"
#include "vbp_image.h"

/* libpng reports errors through longjmp; the message is kept for vbp_fail. */
typedef struct png_write_ctx {
    char msg[200];
} png_write_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_write_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/*
 * Encode the image into the open stream fp.  Returns 0, or -1 with a reason
 * in ctx->msg.  `row` is scratch of width*channels bytes.
 */
static int encode(FILE *fp, const uint8_t *planar, uint32_t width, uint32_t height,
                  uint32_t channels, uint8_t *row, png_write_ctx *ctx)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error,
                                              on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "cannot create PNG writer");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        if (!info)
            snprintf(ctx->msg, sizeof ctx->msg, "cannot create PNG info");
        png_destroy_write_struct(&png, info ? &info : NULL);
        return -1;
    }
    png_init_io(png, fp);
    /* speed over size: one cheap filter and fast deflate (noisy frames gain little more) */
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_set_IHDR(png, info, width, height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t plane = (size_t)width * height;
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *src = planar + (size_t)y * width;
        for (uint32_t x = 0; x < width; x++)
            for (uint32_t c = 0; c < channels; c++)
                row[(size_t)x * channels + c] = src[c * plane + x];
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int vbp_png_write_planar(const char *path, const uint8_t *planar, uint32_t width, uint32_t height,
                         uint32_t channels, vbp_error *err)
{
    if (!path || !planar || width == 0 || height == 0 || width > 0x7fffffffu ||
        height > 0x7fffffffu || (channels != 1 && channels != 3))
        return vbp_fail(err, VBP_E_ARG, "%s: cannot write PNG: bad arguments (%ux%u, %u channels)",
                        path ? path : "(null)", width, height, channels);

    uint8_t *row = malloc((size_t)width * channels);
    if (!row)
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    vbp_atomic file;
    int rc = vbp_atomic_open(&file, path, err);
    if (rc) {
        free(row);
        return rc;
    }
    png_write_ctx ctx = {{0}};
    const char *what = NULL;
    int e = 0;
    /* libpng writes through a FILE of its own descriptor; commit fsyncs and closes file.fd */
    int fd = dup(file.fd);
    FILE *fp = fd < 0 ? NULL : fdopen(fd, "wb");
    if (!fp) {
        e = errno;
        if (fd >= 0)
            close(fd);
        what = "cannot open temporary file";
    } else {
        if (encode(fp, planar, width, height, channels, row, &ctx) != 0)
            what = ctx.msg;
        if (!what && fflush(fp) != 0) {
            e = errno;
            what = "write failed";
        }
        if (fclose(fp) != 0 && !what) {
            e = errno;
            what = "close failed";
        }
    }
    if (what) {
        vbp_atomic_abort(&file);
        rc = e ? vbp_fail(err, VBP_E_IO, "%s: cannot write PNG: %s: %s", path, what, strerror(e))
               : vbp_fail(err, VBP_E_IO, "%s: cannot write PNG: %s", path, what);
    } else
        rc = vbp_atomic_commit(&file, 1, err);
    free(row);
    return rc;
}

/*
 * png_read.c - decoding PNG files of any colour type into planar uint8.
 *
 * Every PNG is first normalised by libpng to 8-bit gray or 8-bit RGB, the
 * way OpenCV's imread(IMREAD_COLOR) does it: palette expanded to RGB, 1/2/4-bit
 * gray expanded to 8 bits, 16-bit samples reduced to their high byte (>> 8),
 * alpha and tRNS dropped.  Then rows are scattered into planes: gray->RGB
 * replicates, RGB->gray uses OpenCV's fixed-point RGB2GRAY (vbp_gray, gray.h).
 * CRCs are always checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gray.h"
#include "internal.h"
#include "vbp_image.h"

/* libpng error text of the current decode, and where to jump on error. */
typedef struct png_failure {
    jmp_buf jump;
    char message[200];
} png_failure;

/* Cursor over a PNG held in memory. */
typedef struct png_source {
    const uint8_t *data;
    size_t size, pos;
} png_source;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_failure *f = png_get_error_ptr(png);
    snprintf(f->message, sizeof f->message, "%s", msg);
    longjmp(f->jump, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (e.g. unknown ancillary chunks) do not change pixels */
}

static void read_from_memory(png_structp png, png_bytep out, size_t n)
{
    png_source *src = png_get_io_ptr(png);
    if (n > src->size - src->pos)
        png_error(png, "unexpected end of file");
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
}

/*
 * Scatter one normalised row (src_ch = 1 or 3 interleaved) into row y of the
 * planes.  Written so that the loops vectorise: size_t indices (gcc gives up
 * when 3 * x may wrap in 32 bits) and restrict pointers (without them clang's
 * cost model rejects the RGB loop's run-time overlap checks).
 */
static void row_to_planes(const uint8_t *restrict row, unsigned src_ch, uint8_t *dst,
                          uint32_t width, size_t plane, uint32_t channels, uint32_t y)
{
    uint8_t *restrict d0 = dst + (size_t)y * width;
    if (src_ch == 1) {
        memcpy(d0, row, width);
        if (channels == 3) {
            memcpy(d0 + plane, row, width);
            memcpy(d0 + 2 * plane, row, width);
        }
    } else if (channels == 3) {
        uint8_t *restrict d1 = d0 + plane, *restrict d2 = d0 + 2 * plane;
        for (size_t x = 0; x < width; x++) {
            d0[x] = row[3 * x];
            d1[x] = row[3 * x + 1];
            d2[x] = row[3 * x + 2];
        }
    } else {
        for (size_t x = 0; x < width; x++)
            d0[x] = vbp_gray(row[3 * x], row[3 * x + 1], row[3 * x + 2]);
    }
}

/* Channels after the normalisation above: 1 for gray(+alpha), 3 for everything else. */
static unsigned normalised_channels(int color_type)
{
    return (color_type & PNG_COLOR_MASK_COLOR) ? 3u : 1u;
}

/* Channels as stored: 1 gray, 2 gray+alpha, 3 RGB or palette, 4 RGBA. */
static uint32_t stored_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 3;
    }
}

/*
 * The one decoder.  With dst == NULL only the header is read and
 * width/height/channels are reported through the probe_* pointers.
 * Everything allocated here is released on every path: png structures by
 * png_destroy_read_struct, the row buffer through a volatile pointer that
 * survives the longjmp.
 */
static int decode(const uint8_t *data, size_t size, const char *name, uint32_t width,
                  uint32_t height, uint32_t channels, uint8_t *dst, uint32_t *probe_w,
                  uint32_t *probe_h, uint32_t *probe_ch, vbp_error *err)
{
    if (size < 8 || png_sig_cmp(data, 0, 8))
        return vbp_fail(err, VBP_E_INPUT, "%s: not a PNG file", name);
    png_failure failure;
    png_source src = {data, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error,
                                             on_png_warning);
    if (!png)
        return vbp_fail(err, VBP_E_NOMEM, "%s: cannot allocate a PNG decoder", name);
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile rows = NULL;
    png_bytep *volatile row_ptrs = NULL;
    volatile int rc = VBP_OK;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return vbp_fail(err, VBP_E_NOMEM, "%s: cannot allocate a PNG decoder", name);
    }
    if (setjmp(failure.jump)) {
        rc = vbp_fail(err, VBP_E_INPUT, "%s: corrupt PNG (libpng: %s)", name, failure.message);
        goto done;
    }
    png_set_read_fn(png, &src, read_from_memory);
    /* Frames are at most a few thousand pixels wide; refuse absurd headers early. */
    png_set_user_limits(png, 1u << 16, 1u << 16);
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, color_type, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color_type, &interlace, NULL, NULL);
    if (!dst) {
        *probe_w = w;
        *probe_h = h;
        *probe_ch = stored_channels(color_type);
        goto done;
    }
    if (w != width || h != height) {
        rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: %ux%u, pack geometry is %ux%u", name,
                      (unsigned)w, (unsigned)h, (unsigned)width, (unsigned)height);
        goto done;
    }
    if (depth == 16)
        png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (!(color_type & PNG_COLOR_MASK_COLOR) && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    unsigned src_ch = normalised_channels(color_type);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (rowbytes != (size_t)width * src_ch) {
        rc = vbp_fail(err, VBP_E_INPUT, "%s: unsupported PNG pixel format", name);
        goto done;
    }
    size_t plane = (size_t)width * height;
    if (passes == 1) {
        /* Non-interlaced: one reused row buffer, scattered as it arrives. */
        rows = malloc(rowbytes);
        if (!rows) {
            rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", name);
            goto done;
        }
        for (uint32_t y = 0; y < height; y++) {
            png_read_row(png, rows, NULL);
            row_to_planes(rows, src_ch, dst, width, plane, channels, y);
        }
    } else {
        /* Interlaced: libpng needs the whole image to assemble the passes. */
        rows = malloc(rowbytes * height);
        row_ptrs = malloc(sizeof(png_bytep) * height);
        if (!rows || !row_ptrs) {
            rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", name);
            goto done;
        }
        for (uint32_t y = 0; y < height; y++)
            row_ptrs[y] = rows + (size_t)y * rowbytes;
        png_read_image(png, row_ptrs);
        for (uint32_t y = 0; y < height; y++)
            row_to_planes(row_ptrs[y], src_ch, dst, width, plane, channels, y);
    }
    /* Reading the end checks the CRCs of everything after the image data. */
    png_read_end(png, NULL);
done:
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    free(row_ptrs);
    return rc;
}

int vbp_file_read(const char *path, uint8_t **buf, size_t *cap, size_t *size, vbp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open (%s)", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vbp_fail(err, VBP_E_IO, "%s: not a regular file", path);
    }
    size_t want = (size_t)st.st_size;
    if (want + 1 > *cap) { /* +1: a file that grew is seen as a short read, not a hang */
        uint8_t *nb = realloc(*buf, want + 1);
        if (!nb) {
            close(fd);
            return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
        }
        *buf = nb;
        *cap = want + 1;
    }
    size_t len = 0;
    while (len < want) {
        ssize_t n = read(fd, *buf + len, want - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return vbp_fail(err, VBP_E_IO, "%s: read error (%s)", path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    *size = len;
    return VBP_OK;
}

int vbp_png_probe(const char *path, uint32_t *width, uint32_t *height, uint32_t *channels,
                  vbp_error *err)
{
    uint8_t *buf = NULL;
    size_t cap = 0, size = 0;
    int rc = vbp_file_read(path, &buf, &cap, &size, err);
    if (rc == VBP_OK) {
        rc = vbp_png_probe_mem(buf, size, path, width, height, channels, err);
    }
    free(buf);
    return rc;
}

int vbp_png_probe_mem(const uint8_t *png, size_t png_size, const char *name, uint32_t *width,
                      uint32_t *height, uint32_t *channels, vbp_error *err)
{
    return decode(png, png_size, name, 0, 0, 0, NULL, width, height, channels, err);
}

int vbp_png_decode_planar(const uint8_t *png, size_t png_size, const char *name,
                          uint32_t width, uint32_t height, uint32_t channels,
                          uint8_t *dst, size_t dst_size, vbp_error *err)
{
    if (!dst || (channels != 1 && channels != 3) || width == 0 || height == 0)
        return vbp_fail(err, VBP_E_ARG, "%s: bad decode arguments", name);
    if (dst_size / channels / width < height)
        return vbp_fail(err, VBP_E_ARG, "%s: destination too small", name);
    return decode(png, png_size, name, width, height, channels, dst, NULL, NULL, NULL, err);
}

int vbp_png_read_planar(const char *path, uint32_t width, uint32_t height, uint32_t channels,
                        uint8_t *dst, size_t dst_size, vbp_error *err)
{
    uint8_t *buf = NULL;
    size_t cap = 0, size = 0;
    int rc = vbp_file_read(path, &buf, &cap, &size, err);
    if (rc == VBP_OK) {
        rc = vbp_png_decode_planar(buf, size, path, width, height, channels, dst, dst_size, err);
    }
    free(buf);
    return rc;
}

/*
 * overlay.c - pictures of predictions: every predicted frame with the
 * predicted ball (red ring and cross) and the labelled ball (green ring),
 * and one contact sheet per clip (a grid of shrunk, marked frames).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "draw.h"
#include "internal.h"
#include "train_internal.h"

#define SHEET_TILES 48  /* at most this many frames on a sheet: every k-th frame */
#define SHEET_COLS 6
#define SHEET_GAP 2
#define TILE_WIDTH 160  /* frames are shrunk by round(W / TILE_WIDTH), at least 1 */

static const vbp_rgb red = { 255, 0, 0 }, green = { 0, 255, 0 }, white = { 255, 255, 255 },
                     black = { 0, 0, 0 }, sheet_bg = { 40, 40, 40 };

/* Marks of one frame on a canvas `shrink` times smaller than the frame. */
static void mark(vbp_canvas *c, const vbp_label *lab, const vbp_detection *pred, uint32_t shrink)
{
    const float f = (float)shrink;
    const int big = shrink == 1;
    if (lab->visibility != VBP_NO_LABEL && lab->visibility)
        vbp_draw_ring(c, (lab->x + 0.5f) / f - 0.5f, (lab->y + 0.5f) / f - 0.5f,
                      big ? VBP_OVERLAY_LABEL_R : 4.0f, big ? 1.0f : 0.6f, green);
    if (pred->visible) {
        float x = (pred->x + 0.5f) / f - 0.5f, y = (pred->y + 0.5f) / f - 0.5f;
        vbp_draw_ring(c, x, y, big ? VBP_OVERLAY_PRED_R : 2.0f, big ? 1.0f : 0.6f, red);
        int64_t cx = lroundf(x), cy = lroundf(y), arm = big ? 2 : 0;
        vbp_draw_line(c, cx - arm, cy, cx + arm, cy, 1, red);
        vbp_draw_line(c, cx, cy - arm, cx, cy + arm, 1, red);
    }
}

int vbp_overlay_clip(const vbp_pack *pack, uint64_t clip_index, const vbp_detection *pred,
                     const char *dir, vbp_error *err)
{
    const vbp_clip *clip = vbp_pack_clip(pack, clip_index);
    const vbp_geometry *g = &vbp_pack_get_info(pack)->geometry;
    const uint64_t n = clip->frame_count;
    const uint32_t shrink = g->width >= TILE_WIDTH ? (uint32_t)lround((double)g->width / TILE_WIDTH) : 1;
    const uint32_t tw = g->width / shrink, th = g->height / shrink;
    const uint64_t every = n > SHEET_TILES ? (n + SHEET_TILES - 1) / SHEET_TILES : 1;
    const uint64_t tiles = n ? (n + every - 1) / every : 0;
    const uint32_t cols = tiles < SHEET_COLS ? (uint32_t)tiles : SHEET_COLS;
    const uint32_t rows = cols ? (uint32_t)((tiles + cols - 1) / cols) : 0;
    char frame_dir[4096], path[4096];
    if (!n)
        return VBP_OK;
    int rc = vbp_clip_path(frame_dir, sizeof frame_dir, dir, clip, "", err);
    if (!rc)
        rc = vbp_make_dir(frame_dir, err);
    if (rc)
        return rc;
    size_t bytes = (size_t)g->frame_channels * g->height * g->width;
    uint8_t *buf = malloc(bytes);
    vbp_canvas frame = { 0 }, tile = { 0 }, sheet = { 0 };
    if (!buf)
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", frame_dir);
    if (!rc)
        rc = vbp_canvas_init(&frame, g->width, g->height, black, err);
    if (!rc)
        rc = vbp_canvas_init(&tile, tw, th, black, err);
    if (!rc)
        rc = vbp_canvas_init(&sheet, SHEET_GAP + cols * (tw + SHEET_GAP),
                             SHEET_GAP + rows * (th + SHEET_GAP), sheet_bg, err);
    for (uint64_t i = 0; !rc && i < n; i++) {
        uint64_t f = clip->first_frame + i;
        vbp_record rec;
        if (vbp_pack_record(pack, f, VBP_REC_FRAME, &rec)) {
            rc = vbp_fail(err, VBP_E_FORMAT, "%s: frame %" PRIu64 " is not in the index",
                          vbp_pack_path(pack), f);
            break;
        }
        if (rec.raw_size != bytes) {
            rc = vbp_fail(err, VBP_E_FORMAT, "%s: frame record %" PRIu64 " holds %llu bytes, not %zu",
                          vbp_pack_path(pack), f, (unsigned long long)rec.raw_size, bytes);
            break;
        }
        rc = vbp_record_decode(&rec, buf, bytes, err);
        if (rc)
            break;
        vbp_canvas_from_planar(&frame, buf, g->frame_channels);
        vbp_label lab = vbp_pack_label(pack, f);
        if (i % every == 0) {
            uint64_t t = i / every;
            vbp_canvas_paste_shrunk(&tile, 0, 0, &frame, shrink);
            mark(&tile, &lab, &pred[i], shrink);
            if (th >= 16) {
                char num[24];
                snprintf(num, sizeof num, "%" PRIu64, i);
                vbp_draw_text(&tile, 3, 3, num, 1, black);
                vbp_draw_text(&tile, 2, 2, num, 1, white);
            }
            vbp_canvas_paste_shrunk(&sheet, SHEET_GAP + (int64_t)(t % cols) * (tw + SHEET_GAP),
                                    SHEET_GAP + (int64_t)(t / cols) * (th + SHEET_GAP), &tile, 1);
        }
        mark(&frame, &lab, &pred[i], 1);
        int len = snprintf(path, sizeof path, "%s/%06" PRIu64 ".png", frame_dir, i);
        rc = len < 0 || (size_t)len >= sizeof path
                 ? vbp_fail(err, VBP_E_ARG, "%s: output path too long", frame_dir)
                 : vbp_canvas_write_png(&frame, path, err);
    }
    if (!rc)
        rc = vbp_clip_path(path, sizeof path, dir, clip, "_sheet.png", err);
    if (!rc)
        rc = vbp_canvas_write_png(&sheet, path, err);
    vbp_canvas_free(&frame);
    vbp_canvas_free(&tile);
    vbp_canvas_free(&sheet);
    free(buf);
    return rc;
}

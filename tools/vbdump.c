/*
 * vbdump - inspect a pack: info (with the memory table), clips, frames,
 * verify, export.  Thin: the reports live in src/pack/pack_dump.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vbp_pack.h"
#include "vbp_names.h"
#include "vbp_guard.h"
#include "vbp_util.h"
#include "vbp_dump.h"
#include "vbp_image.h"
#include "cli.h"

static const char usage_text[] =
    "usage: vbdump info PACK [--seq N] [--json]   header, geometry, splits, sizes, memory table\n"
    "       vbdump clips PACK [--json]             the clip table\n"
    "       vbdump frames PACK CLIP [--json]       frame index rows of a clip\n"
    "       vbdump verify PACK [--json]            check every byte: checksums, lz4 decoding, zero padding\n"
    "       vbdump export PACK CLIP FRAME -o PREFIX\n"
    "                                              PREFIX_frame.png, PREFIX_heatmap.png, PREFIX_overlay.png\n"
    "CLIP: match/clip, /clip (a clip of no match), or a name that one clip, or a match of one\n"
    "clip, has alone; a name that fits several is an error listing them (see vbdump clips).\n"
    "FRAME counts from 0 within the clip.  Exit status: 0 ok, 1 error or bad pack, 2 usage\n"
    "(a CLIP that names no clip or several included).\n";

static int usage(FILE *f)
{
    fputs(usage_text, f);
    return f == stdout ? 0 : 2;
}

static int fail(const char *pack, const char *msg)
{
    /* Library details already start with the pack's path. */
    size_t n = strlen(pack);
    if (!strncmp(msg, pack, n) && msg[n] == ':')
        fprintf(stderr, "vbdump: %s\n", msg);
    else
        fprintf(stderr, "vbdump: %s: %s\n", pack, msg);
    return 1;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_bar_draw(ctx, "verify", done, total, NULL);
}

static int export_frame(vbp_pack *p, uint64_t clip, uint64_t i, const char *prefix)
{
    const vbp_pack_info *in = vbp_pack_get_info(p);
    const vbp_geometry *g = &in->geometry;
    size_t plane = (size_t)g->width * g->height;
    uint8_t *frame = malloc(plane * g->frame_channels), *heat = malloc(plane), *rgb = malloc(plane * 3);
    uint64_t f = vbp_pack_clip(p, clip)->first_frame + i;
    vbp_record r;
    vbp_error err;
    int rc = !frame || !heat || !rgb ? VBP_E_NOMEM : VBP_OK;
    if (!rc) {
        vbp_pack_record(p, f, VBP_REC_FRAME, &r);
        rc = vbp_record_decode(&r, frame, plane * g->frame_channels, &err);
    }
    if (!rc) {
        vbp_pack_record(p, f, VBP_REC_HEATMAP, &r);
        rc = vbp_record_decode(&r, heat, plane, &err);
    }
    char path[4096];
    static const char *const suffix[3] = {"frame", "heatmap", "overlay"};
    if (!rc)
        vbp_overlay_heatmap(frame, g->frame_channels, heat, g->width, g->height, rgb);
    for (int k = 0; k < 3 && !rc; k++) {
        snprintf(path, sizeof path, "%s_%s.png", prefix, suffix[k]);
        const uint8_t *img = k == 0 ? frame : k == 1 ? heat : rgb;
        uint32_t ch = k == 0 ? g->frame_channels : k == 1 ? 1 : 3;
        rc = vbp_png_write_planar(path, img, g->width, g->height, ch, &err);
        if (!rc)
            printf("%s\n", path);
    }
    free(frame);
    free(heat);
    free(rgb);
    return rc ? fail(vbp_pack_path(p), rc == VBP_E_NOMEM ? "out of memory" : vbp_error_message(&err)) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1], *pos[3] = {NULL, NULL, NULL}, *prefix = NULL;
    int json = 0, npos = 0;
    uint64_t seq = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        if (i == 1)
            continue;
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--seq") && i + 1 < argc) {
            if (cli_parse_u64(argv[++i], &seq) || seq < 1 || seq > 1024) {
                fprintf(stderr, "vbdump: --seq wants a number 1..1024, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "-o") && i + 1 < argc)
            prefix = argv[++i];
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vbdump: unknown option '%s'\n", a);
            return usage(stderr);
        } else if (npos < 3)
            pos[npos++] = a;
        else
            return usage(stderr);
    }
    int want = !strcmp(cmd, "frames") ? 2 : !strcmp(cmd, "export") ? 3
             : (!strcmp(cmd, "info") || !strcmp(cmd, "clips") || !strcmp(cmd, "verify")) ? 1 : -1;
    if (want < 0) {
        fprintf(stderr, "vbdump: unknown command '%s'\n", cmd);
        return usage(stderr);
    }
    if (npos != want || (want == 3 && !prefix) || (want == 3 && json))
        return usage(stderr);

    vbp_error err;
    vbp_pack *p;
    /* a pack truncated while we read it: an error line naming it, not a crash */
    if (vbp_guard_enable("vbdump", &err))
        return fail(pos[0], vbp_error_message(&err));
    if (vbp_pack_open(pos[0], &p, &err))
        return fail(pos[0], vbp_error_message(&err));
    int rc = 0;
    uint64_t clip = 0;
    if (want >= 2) {
        vbp_name_set set;
        vbp_name_pick pick;
        vbp_pack_name_set(p, &set);
        if (vbp_name_resolve(&set, pos[1], VBP_NAME_ONE_CLIP, &pick, &err)) {
            fail(pos[0], vbp_error_message(&err));
            vbp_pack_close(p);
            return 2; /* a CLIP that names no clip, or several, is a usage error */
        }
        clip = pick.first;
    }
    if (!strcmp(cmd, "info"))
        vbp_dump_info(stdout, p, (uint32_t)seq, json);
    else if (!strcmp(cmd, "clips"))
        vbp_dump_clips(stdout, p, json);
    else if (!strcmp(cmd, "frames"))
        vbp_dump_frames(stdout, p, clip, json);
    else if (!strcmp(cmd, "verify")) {
        cli_bar bar;
        cli_bar_init(&bar, 1, "frames");
        int bad = vbp_pack_verify(p, bar.on ? progress : NULL, &bar, &err);
        cli_bar_clear(&bar);
        if (json) {
            vbp_json j;
            vbp_json_init(&j, 1);
            vbp_json_begin_object(&j);
            vbp_json_kstring(&j, "pack", pos[0]);
            vbp_json_kbool(&j, "ok", !bad);
            vbp_json_ku64(&j, "frames", vbp_pack_get_info(p)->frame_count);
            if (bad)
                vbp_json_kstring(&j, "error", vbp_error_message(&err));
            vbp_json_end_object(&j);
            vbp_json_print(&j, stdout);
        } else if (!bad)
            printf("%s: ok, %llu frames and heatmaps match their checksums, every byte as the spec writes it\n", pos[0],
                   (unsigned long long)vbp_pack_get_info(p)->frame_count);
        rc = bad ? fail(pos[0], vbp_error_message(&err)) : 0;
    } else {
        uint64_t i;
        const vbp_clip *c = vbp_pack_clip(p, clip);
        if (cli_parse_u64(pos[2], &i) || i >= c->frame_count) {
            char msg[VBP_ERROR_DETAIL_MAX], q[200], f[40];
            vbp_escape(q, sizeof q, pos[1], strlen(pos[1]));
            vbp_escape(f, sizeof f, pos[2], strlen(pos[2]));
            snprintf(msg, sizeof msg, "clip '%s' has frames 0..%llu, not '%s'", q,
                     (unsigned long long)c->frame_count - 1, f);
            rc = fail(pos[0], msg);
        } else
            rc = export_frame(p, clip, i, prefix);
    }
    vbp_pack_close(p);
    if (fflush(stdout) != 0 && !rc)
        rc = fail(pos[0], "cannot write to standard output");
    return rc;
}

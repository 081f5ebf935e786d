/* pack_dump.c - the reports of vbdump: pack info with its memory table, clips, frame rows. */
#include <inttypes.h>
#include <string.h>
#include "vbp_dump.h"
#include "vbp_memlimit.h"
#include "vbp_util.h"

void vbp_pack_memory(const vbp_pack *p, uint32_t seq, vbp_memory *m)
{
    const vbp_pack_info *in = vbp_pack_get_info(p);
    const vbp_geometry *g = &in->geometry;
    memset(m, 0, sizeof *m);
    m->seq = seq;
    m->frame = (uint64_t)g->frame_channels * g->height * g->width;
    m->heatmap = (uint64_t)g->heatmap_channels * g->height * g->width;
    m->sequence = seq * (m->frame + m->heatmap);
    for (uint64_t c = 0; c < in->clip_count; c++) {
        uint64_t n = vbp_pack_clip(p, c)->frame_count;
        m->windows += n >= seq ? n - seq + 1 : 0;
    }
    m->preload_frames = in->frame_count * (m->frame + m->heatmap);
    m->preload_windows = m->windows * m->sequence;
    m->mapped = in->file_size;
}

/* Decimal units, as memory-note.md uses them ("0.44 MB"). */
static const char *human(uint64_t b, char buf[32])
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1000 && u < 5)
        v /= 1000, u++;
    snprintf(buf, 32, u ? "%.2f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

typedef struct stored_stats {
    uint64_t bytes[2], lz4[2];
} stored_stats;

static void stored(const vbp_pack *p, stored_stats *s)
{
    memset(s, 0, sizeof *s);
    for (uint64_t f = 0; f < vbp_pack_get_info(p)->frame_count; f++)
        for (int k = 0; k < 2; k++) {
            vbp_record r;
            vbp_pack_record(p, f, (vbp_record_kind)k, &r);
            s->bytes[k] += r.stored_size;
            s->lz4[k] += r.codec == VBP_CODEC_LZ4;
        }
}

static void memory_row(FILE *out, const char *what, uint64_t u8)
{
    char a[32], b[32];
    fprintf(out, "  %-34s %12s %12s\n", what, human(u8, a), human(4 * u8, b));
}

int vbp_dump_info(FILE *out, const vbp_pack *p, uint32_t seq, int json)
{
    const vbp_pack_info *in = vbp_pack_get_info(p);
    const vbp_geometry *g = &in->geometry;
    vbp_memory m;
    stored_stats s;
    vbp_pack_memory(p, seq, &m);
    stored(p, &s);
    /* What this process may use, as the trainer and the loader see it (page cache counts). */
    vbp_memlimit lim;
    vbp_memlimit_read(NULL, &lim);
    char limit[400];
    vbp_memlimit_describe(&lim, lim.cache_source, limit, sizeof limit);
    const int fits = lim.cache_source == VBP_MEMLIMIT_NONE || m.mapped <= lim.cache_bytes;
    if (json) {
        vbp_json j;
        char hex[17];
        vbp_json_init(&j, 1);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "pack", vbp_pack_path(p));
        snprintf(hex, sizeof hex, "%u.%u", in->version_major, in->version_minor);
        vbp_json_kstring(&j, "version", hex);
        vbp_json_ku64(&j, "flags", in->flags);
        snprintf(hex, sizeof hex, "%016" PRIx64, in->fingerprint);
        vbp_json_kstring(&j, "fingerprint", hex);
        vbp_json_ku64(&j, "height", g->height);
        vbp_json_ku64(&j, "width", g->width);
        vbp_json_ku64(&j, "frame_channels", g->frame_channels);
        vbp_json_ku64(&j, "heatmap_channels", g->heatmap_channels);
        vbp_json_kstring(&j, "codec", vbp_codec_name(in->default_codec));
        vbp_json_ku64(&j, "clips", in->clip_count);
        vbp_json_ku64(&j, "frames", in->frame_count);
        for (int k = 0; k < 2; k++) {
            vbp_json_key(&j, k ? "frames_per_split" : "clips_per_split");
            vbp_json_begin_object(&j);
            for (int i = 0; i < VBP_SPLIT_COUNT; i++)
                vbp_json_ku64(&j, vbp_split_name((vbp_split)i),
                              k ? in->frames_per_split[i] : in->clips_per_split[i]);
            vbp_json_end_object(&j);
        }
        vbp_json_ku64(&j, "file_size", in->file_size);
        vbp_json_ku64(&j, "data_offset", in->data_offset);
        vbp_json_ku64(&j, "data_size", in->data_size);
        vbp_json_ku64(&j, "frame_bytes_stored", s.bytes[0]);
        vbp_json_ku64(&j, "heatmap_bytes_stored", s.bytes[1]);
        vbp_json_ku64(&j, "lz4_frames", s.lz4[0]);
        vbp_json_ku64(&j, "lz4_heatmaps", s.lz4[1]);
        vbp_json_key(&j, "memory");
        vbp_json_begin_object(&j);
        vbp_json_ku64(&j, "seq", m.seq);
        vbp_json_ku64(&j, "frame_uint8", m.frame);
        vbp_json_ku64(&j, "heatmap_uint8", m.heatmap);
        vbp_json_ku64(&j, "sequence_uint8", m.sequence);
        vbp_json_ku64(&j, "windows", m.windows);
        vbp_json_ku64(&j, "preload_frames_uint8", m.preload_frames);
        vbp_json_ku64(&j, "preload_windows_uint8", m.preload_windows);
        vbp_json_ku64(&j, "mapped", m.mapped);
        vbp_json_ku64(&j, "float32_factor", 4);
        vbp_json_key(&j, "limit");
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "source", vbp_memlimit_source_name(lim.cache_source));
        if (lim.cache_source != VBP_MEMLIMIT_NONE)
            vbp_json_ku64(&j, "bytes", lim.cache_bytes);
        vbp_json_kstring(&j, "detail", limit);
        vbp_json_kbool(&j, "preload_fits", fits);
        vbp_json_end_object(&j);
        vbp_json_end_object(&j);
        vbp_json_end_object(&j);
        return vbp_json_print(&j, out) ? VBP_E_IO : VBP_OK;
    }
    char a[32], b[32];
    fprintf(out, "pack         %s\n", vbp_pack_path(p));
    fprintf(out, "format       vbpack %u.%u, flags 0x%x, fingerprint %016" PRIx64 "\n",
            in->version_major, in->version_minor, in->flags, in->fingerprint);
    fprintf(out, "geometry     %ux%u, %u frame channel%s (%s), %u heatmap channel\n", g->width, g->height,
            g->frame_channels, g->frame_channels > 1 ? "s" : "", g->frame_channels == 3 ? "RGB" : "gray",
            g->heatmap_channels);
    fprintf(out, "codec        %s (lz4 records: %" PRIu64 " of %" PRIu64 " frames, %" PRIu64 " of %" PRIu64
            " heatmaps)\n", vbp_codec_name(in->default_codec), s.lz4[0], in->frame_count, s.lz4[1],
            in->frame_count);
    fprintf(out, "clips        %" PRIu64 " (train %" PRIu64 ", val %" PRIu64 ", test %" PRIu64 ")\n",
            in->clip_count, in->clips_per_split[0], in->clips_per_split[1], in->clips_per_split[2]);
    fprintf(out, "frames       %" PRIu64 " (train %" PRIu64 ", val %" PRIu64 ", test %" PRIu64 ")\n",
            in->frame_count, in->frames_per_split[0], in->frames_per_split[1], in->frames_per_split[2]);
    fprintf(out, "file size    %s (%" PRIu64 " bytes); data %s at offset %" PRIu64 "\n",
            human(in->file_size, a), in->file_size, human(in->data_size, b), in->data_offset);
    fprintf(out, "stored       frames %s, heatmaps %s\n", human(s.bytes[0], a), human(s.bytes[1], b));
    fprintf(out, "\nmemory (seq %u)                          uint8      float32\n", seq);
    memory_row(out, "frame", m.frame);
    memory_row(out, "heatmap", m.heatmap);
    char what[64];
    snprintf(what, sizeof what, "sequence (%u frames + heatmaps)", seq);
    memory_row(out, what, m.sequence);
    memory_row(out, "preload every frame + heatmap", m.preload_frames);
    snprintf(what, sizeof what, "preload every window (%" PRIu64 ")", m.windows);
    memory_row(out, what, m.preload_windows);
    fprintf(out, "  %-34s %12s  (page cache, shared by workers, no copy)\n", "mmap this pack",
            human(m.mapped, a));
    fprintf(out, "  %-34s %12s  (%s)\n", "this process may use",
            lim.cache_source == VBP_MEMLIMIT_NONE ? "no limit" : human(lim.cache_bytes, a), limit);
    fprintf(out, "  %-34s %s\n", "--preload", fits ? "fits (a trainer's own needs come on top)"
                                                   : "does not fit: the trainer runs from disk");
    return VBP_OK;
}

int vbp_dump_clips(FILE *out, const vbp_pack *p, int json)
{
    const vbp_pack_info *in = vbp_pack_get_info(p);
    vbp_json j;
    vbp_json_init(&j, 1);
    if (!json)
        fprintf(out, "%-5s %-24s %-24s %-5s %10s %8s\n", "#", "group", "name", "split", "first", "frames");
    else
        vbp_json_begin_array(&j);
    for (uint64_t i = 0; i < in->clip_count; i++) {
        const vbp_clip *c = vbp_pack_clip(p, i);
        if (!json) { /* names from the file, escaped for the terminal (JSON escapes its own) */
            char g[VBP_ESCAPED_MAX(VBP_NAME_MAX)], n[VBP_ESCAPED_MAX(VBP_NAME_MAX)];
            fprintf(out, "%-5" PRIu64 " %-24s %-24s %-5s %10" PRIu64 " %8" PRIu64 "\n", i,
                    c->group[0] ? vbp_escape(g, sizeof g, c->group, strlen(c->group)) : "-",
                    vbp_escape(n, sizeof n, c->name, strlen(c->name)), vbp_split_name(c->split),
                    c->first_frame, c->frame_count);
            continue;
        }
        vbp_json_begin_object(&j);
        vbp_json_ku64(&j, "index", i);
        vbp_json_kstring(&j, "name", c->name);
        vbp_json_kstring(&j, "group", c->group);
        vbp_json_kstring(&j, "split", vbp_split_name(c->split));
        vbp_json_ku64(&j, "first_frame", c->first_frame);
        vbp_json_ku64(&j, "frame_count", c->frame_count);
        vbp_json_end_object(&j);
    }
    if (json) {
        vbp_json_end_array(&j);
        return vbp_json_print(&j, out) ? VBP_E_IO : VBP_OK;
    }
    return VBP_OK;
}

int vbp_dump_frames(FILE *out, const vbp_pack *p, uint64_t clip, int json)
{
    const vbp_clip *c = vbp_pack_clip(p, clip);
    if (!c)
        return VBP_E_ARG;
    if (!json)
        fprintf(out, "%-6s %10s %4s %8s %8s  %-4s %12s %8s %16s  %-4s %12s %8s %16s\n", "frame", "global",
                "vis", "x", "y", "fcod", "foffset", "fsize", "fxxh3", "hcod", "hoffset", "hsize", "hxxh3");
    vbp_json j;
    vbp_json_init(&j, 1);
    if (json)
        vbp_json_begin_array(&j);
    for (uint64_t i = 0; i < c->frame_count; i++) {
        uint64_t f = c->first_frame + i;
        vbp_record r[2];
        vbp_pack_record(p, f, VBP_REC_FRAME, &r[0]);
        vbp_pack_record(p, f, VBP_REC_HEATMAP, &r[1]);
        vbp_label l = vbp_pack_label(p, f);
        size_t map_base = (size_t)vbp_pack_map(p, NULL);
        uint64_t off[2] = {(uint64_t)((size_t)r[0].stored - map_base), (uint64_t)((size_t)r[1].stored - map_base)};
        if (!json) {
            fprintf(out, "%-6" PRIu64 " %10" PRIu64 " %4u %8.2f %8.2f", i, f, l.visibility, l.x, l.y);
            for (int k = 0; k < 2; k++)
                fprintf(out, "  %-4s %12" PRIu64 " %8" PRIu64 " %016" PRIx64, vbp_codec_name(r[k].codec), off[k],
                        r[k].stored_size, r[k].checksum);
            fputc('\n', out);
            continue;
        }
        vbp_json_begin_object(&j);
        vbp_json_ku64(&j, "frame", i);
        vbp_json_ku64(&j, "global", f);
        vbp_json_ku64(&j, "visibility", l.visibility);
        vbp_json_kdouble(&j, "x", l.x, 9);
        vbp_json_kdouble(&j, "y", l.y, 9);
        for (int k = 0; k < 2; k++) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016" PRIx64, r[k].checksum);
            vbp_json_key(&j, k ? "heatmap_record" : "frame_record");
            vbp_json_begin_object(&j);
            vbp_json_kstring(&j, "codec", vbp_codec_name(r[k].codec));
            vbp_json_ku64(&j, "offset", off[k]);
            vbp_json_ku64(&j, "stored_size", r[k].stored_size);
            vbp_json_ku64(&j, "raw_size", r[k].raw_size);
            vbp_json_kstring(&j, "xxh3", hex);
            vbp_json_end_object(&j);
        }
        vbp_json_end_object(&j);
    }
    if (json) {
        vbp_json_end_array(&j);
        return vbp_json_print(&j, out) ? VBP_E_IO : VBP_OK;
    }
    return VBP_OK;
}

void vbp_overlay_heatmap(const uint8_t *frame, uint32_t channels, const uint8_t *heatmap,
                         uint32_t width, uint32_t height, uint8_t *rgb)
{
    size_t n = (size_t)width * height;
    for (size_t i = 0; i < n; i++) {
        unsigned a = 153u * heatmap[i] / 255u; /* 0.6 * h, in 1/255 */
        for (uint32_t c = 0; c < 3; c++) {
            unsigned v = frame[(channels == 3 ? c : 0) * n + i];
            unsigned target = c == 0 ? 255u : 0u;
            rgb[c * n + i] = (uint8_t)((v * (255u - a) + target * a + 127u) / 255u);
        }
    }
}

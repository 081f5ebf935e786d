/*
 * pack_expect - writes the fixture pack and, through the C reader, what it
 * holds, for the numpy reader test (tests/test_numpy_reader.py):
 *   pack_expect PACK raw|lz4 CHANNELS OUT [sourced]
 * (sourced: the fixture with its clips' sources, format 1.1)
 * OUT.bin: every decoded frame then heatmap, global frame by frame;
 * OUT.txt: "clip NAME GROUP SPLIT FIRST COUNT WIDTH HEIGHT FPS_NUM FPS_DEN" and
 * "label F VIS X Y" lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pack_fixture.h"

static int die(const char *what, const vbp_error *err)
{
    fprintf(stderr, "pack_expect: %s: %s\n", what, vbp_error_message(err));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && !strcmp(argv[5], "sourced")))
        return fprintf(stderr, "usage: pack_expect PACK raw|lz4 CHANNELS OUT [sourced]\n"), 2;
    vbp_error err;
    vbp_codec codec = strcmp(argv[2], "lz4") ? VBP_CODEC_RAW : VBP_CODEC_LZ4;
    if ((argc == 6 ? fix_write_sourced : fix_write)(argv[1], codec, (uint32_t)atoi(argv[3]), 1, &err))
        return die("write", &err);
    vbp_pack *p;
    if (vbp_pack_open(argv[1], &p, &err))
        return die("open", &err);
    char name[4096];
    snprintf(name, sizeof name, "%s.bin", argv[4]);
    FILE *bin = fopen(name, "wb");
    snprintf(name, sizeof name, "%s.txt", argv[4]);
    FILE *txt = fopen(name, "w");
    if (!bin || !txt)
        return fprintf(stderr, "pack_expect: cannot write %s\n", argv[4]), 1;
    const vbp_pack_info *info = vbp_pack_get_info(p);
    for (uint64_t c = 0; c < info->clip_count; c++) {
        const vbp_clip *k = vbp_pack_clip(p, c);
        fprintf(txt, "clip %s %s %s %llu %llu %u %u %u %u\n", k->name, k->group[0] ? k->group : "-",
                vbp_split_name(k->split), (unsigned long long)k->first_frame,
                (unsigned long long)k->frame_count, k->source.width, k->source.height,
                k->source.fps_num, k->source.fps_den);
    }
    uint8_t *buf = malloc((size_t)info->geometry.frame_channels * info->geometry.height * info->geometry.width);
    for (uint64_t f = 0; f < info->frame_count; f++) {
        for (int kind = 0; kind < 2; kind++) {
            vbp_record r;
            vbp_pack_record(p, f, (vbp_record_kind)kind, &r);
            if (vbp_record_decode(&r, buf, (size_t)r.raw_size, &err))
                return die("decode", &err);
            fwrite(buf, 1, (size_t)r.raw_size, bin);
        }
        vbp_label l = vbp_pack_label(p, f);
        fprintf(txt, "label %llu %u %.9g %.9g\n", (unsigned long long)f, l.visibility, l.x, l.y);
    }
    free(buf);
    vbp_pack_close(p);
    return (fclose(bin) | fclose(txt)) ? 1 : 0;
}

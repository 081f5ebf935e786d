/*
 * fuzz_seeds.c - writes the seed corpora of the fuzz targets: small valid
 * packs (raw and lz4, gray and RGB, labels of every kind), PNGs of every
 * colour type, label CSVs, safetensors files (the shipped model MODEL and
 * small ones of both dtypes, with metadata) and a training state as vbtrain
 * writes it.  Usage: fuzz_seeds OUTDIR STAMP MODEL (creates OUTDIR/pack,
 * png, csv, safetensors, state, then the file STAMP); run by the build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz_common.h"
#include "input_fixture.h"
#include "train_internal.h"
#include "vbp_pack.h"
#include "vbp_safetensors.h"

static int mkdir_p(const char *p)
{
    return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* A pack of `clips` clips of 1..3 frames, w x h, pseudo-random but compressible content. */
static int write_pack(const char *path, uint32_t w, uint32_t h, uint32_t channels, vbp_codec codec,
                      int clips)
{
    vbp_writer_opts o = {{h, w, channels, 1}, codec, 1};
    vbp_writer *wr;
    vbp_error err;
    if (vbp_writer_open(path, &o, &wr, &err)) {
        fprintf(stderr, "fuzz_seeds: %s\n", vbp_error_message(&err));
        return -1;
    }
    uint8_t *px = calloc((size_t)channels * w * h, 1);
    int rc = px ? 0 : -1;
    static const char *const names[3] = {"rally1", "rally2", "serve"};
    for (int c = 0; c < clips && !rc; c++) {
        uint32_t frames = 1 + (uint32_t)c % 3;
        rc = vbp_writer_begin_clip(wr, names[c % 3], c ? "matchA" : "", (vbp_split)(c % 3), &err);
        for (uint32_t i = 0; i < frames && !rc; i++) {
            for (size_t k = 0; k < (size_t)channels * w * h; k++)
                px[k] = (uint8_t)(k / 5 + i * 17 + (uint32_t)c);
            vbp_label l = {(uint8_t)(i % 2), i % 2 ? (float)(i + 1) : -1.0f, i % 2 ? 2.5f : -1.0f};
            rc = vbp_writer_add_frame(wr, px, i == 2 ? NULL : &l, &err);
        }
        for (uint32_t i = 0; i < frames && !rc; i++) {
            memset(px, 0, (size_t)w * h);
            px[(i * 7) % (w * h)] = 255;
            rc = vbp_writer_add_heatmap(wr, px, &err);
        }
        if (!rc)
            rc = vbp_writer_end_clip(wr, &err);
    }
    free(px);
    if (rc) {
        vbp_writer_abort(wr);
        return -1;
    }
    return vbp_writer_finish(wr, &err) ? -1 : 0;
}

/* Small safetensors files (F32 and I64, metadata or none) and the state of a fresh run. */
static int write_weights(const char *dir)
{
    char p[4096];
    vbp_error err;
    static const float w[6] = {0.5f, -1.0f, 2.0f, 0.0f, 1e-3f, 3.0f};
    static const int64_t n = 7;
    const vbp_st_tensor t[2] = {{"enc1.dw.weight", VBP_ST_F32, 2, {2, 3}, w},
                                {"enc1.bn.num_batches_tracked", VBP_ST_I64, 0, {0}, &n}};
    const char *meta[] = {"format", "pt", "model", "VballNetFastV1"};
    int bad = 0;
    snprintf(p, sizeof p, "%s/safetensors/small_meta.safetensors", dir);
    bad |= vbp_safetensors_write(p, t, 2, meta, 2, &err) != VBP_OK;
    snprintf(p, sizeof p, "%s/safetensors/small.safetensors", dir);
    bad |= vbp_safetensors_write(p, t, 1, NULL, 0, &err) != VBP_OK;
    const vbp_net_config nc = FUZZ_NET_CONFIG;
    vbp_net *net;
    if (vbp_net_create(&nc, 3, &net, &err))
        return -1;
    vbp_train_config cfg;
    vbp_train_config_default(&cfg);
    vbp_train_state st = {0};
    st.step = 12;
    st.pack_fingerprint = FUZZ_FINGERPRINT;
    st.order = VBP_ORDER_SHUFFLE;
    st.target = VBP_TARGET_BINARY;
    st.target_cut = 64;
    snprintf(p, sizeof p, "%s/state/last.state", dir);
    bad |= vbp_state_save(p, net, &cfg, &st, &err) != VBP_OK;
    vbp_net_free(net);
    return bad ? -1 : 0;
}

/* dst, a copy of src. */
static int copy_file(const char *src, const char *dst)
{
    size_t n;
    void *b = fx_read_all(src, &n);
    int rc = b ? fx_write_file(dst, b, n) : -1;
    free(b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fuzz_seeds OUTDIR STAMP MODEL\n");
        return 2;
    }
    char p[4096];
    const char *sub[5] = {"pack", "png", "csv", "safetensors", "state"};
    if (mkdir_p(argv[1]))
        return 1;
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", argv[1], sub[i]);
        if (mkdir_p(p))
            return 1;
    }
    int bad = 0;
    /* packs: lz4 ones are a few KiB; raw ones put every record on a 4 KiB page */
    snprintf(p, sizeof p, "%s/pack/lz4_gray.vbp", argv[1]);
    bad |= write_pack(p, 16, 12, 1, VBP_CODEC_LZ4, 3);
    snprintf(p, sizeof p, "%s/pack/lz4_rgb.vbp", argv[1]);
    bad |= write_pack(p, 8, 6, 3, VBP_CODEC_LZ4, 2);
    snprintf(p, sizeof p, "%s/pack/raw_gray.vbp", argv[1]);
    bad |= write_pack(p, 8, 4, 1, VBP_CODEC_RAW, 1);
    /* PNGs of every colour type, depth and interlace */
    uint8_t rgb[3 * 9 * 7];
    for (size_t i = 0; i < fx_png_case_count; i++) {
        snprintf(p, sizeof p, "%s/png/%s.png", argv[1], fx_png_cases[i].name);
        bad |= fx_png_write_case(p, &fx_png_cases[i], 9, 7, (uint32_t)i + 1, rgb);
    }
    /* CSVs: LF, CRLF, no final newline, hidden balls with 0 and -1 */
    static const char *const csv[] = {
        "Frame,Visibility,X,Y\n0,1,10.5,20\n1,0,0,0\n2,1,511,287\n",
        "Frame,Visibility,X,Y\r\n0,0,-1,-1\r\n1,1,3e2,1.25e1\r\n",
        "Frame,Visibility,X,Y\n0,1,100,50",
        "Frame,Visibility,X,Y\n",
    };
    for (size_t i = 0; i < sizeof csv / sizeof csv[0]; i++) {
        snprintf(p, sizeof p, "%s/csv/labels%zu.csv", argv[1], i);
        bad |= fx_write_text(p, csv[i]);
    }
    /* weights: the shipped model (real), small files, a training state */
    snprintf(p, sizeof p, "%s/safetensors/vballnet_fastv1_gray_seq3.safetensors", argv[1]);
    bad |= copy_file(argv[3], p);
    bad |= write_weights(argv[1]);
    if (!bad)
        bad |= fx_write_text(argv[2], "seeds written\n");
    if (bad)
        fprintf(stderr, "fuzz_seeds: could not write every seed under %s\n", argv[1]);
    return bad ? 1 : 0;
}

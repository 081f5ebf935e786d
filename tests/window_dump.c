/*
 * window_dump - windows exactly as the C loader assembles them, and optionally
 * the network's eval-mode output on them, for the Python and ONNX reference
 * tests (tests/test_python_package.py, tests/onnx_export_test.py).
 *   window_dump PACK SEQ CHANNELS SPLIT OUTDIR WEIGHTS|- ID[f] ...
 * SPLIT: train, val, test or all.  IDs are loader sample ids (stride 1);
 * a trailing 'f' mirrors that sample.  Writes OUTDIR/x.f32 and OUTDIR/y.f32
 * (the batch, float32, vbp_loader.h layout), OUTDIR/probs.f32 with WEIGHTS
 * (one forward of the whole batch, training = 0), and OUTDIR/samples.txt:
 * "samples N" then one "id clip first_frame clip_frame flip" line per window.
 * Weights that take a background frame get it (vbp_weights_net).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vbp_loader.h"
#include "vbp_net.h"
#include "vbp_train.h"

static int dump(const char *dir, const char *name, const float *v, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(v, sizeof *v, n, f) != n;
    if (f && fclose(f))
        bad = 1;
    if (bad)
        fprintf(stderr, "window_dump: cannot write %s\n", path);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: window_dump PACK SEQ CHANNELS SPLIT OUTDIR WEIGHTS|- ID[f]...\n");
        return 2;
    }
    const char *dir = argv[5], *weights = argv[6];
    const size_t n = (size_t)argc - 7;
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.seq = (uint32_t)atoi(argv[2]);
    o.channels = (uint32_t)atoi(argv[3]);
    o.batch = (uint32_t)n;
    o.order = VBP_ORDER_SEQUENTIAL;
    vbp_split sp;
    if (!strcmp(argv[4], "all"))
        o.splits = VBP_SPLIT_BIT(VBP_SPLIT_TRAIN) | VBP_SPLIT_BIT(VBP_SPLIT_VAL) |
                   VBP_SPLIT_BIT(VBP_SPLIT_TEST);
    else if (!vbp_split_parse(argv[4], &sp))
        o.splits = VBP_SPLIT_BIT(sp);
    vbp_loader *ld;
    vbp_error err;
    vbp_net_config wc = {0};
    uint32_t ch;
    if (strcmp(weights, "-") && vbp_weights_net(weights, &wc, &ch, &o.background, &err)) {
        fprintf(stderr, "window_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    if (vbp_loader_open_path(argv[1], &o, &ld, &err)) {
        fprintf(stderr, "window_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    uint64_t *ids = malloc(n * sizeof *ids);
    uint8_t *flips = malloc(n);
    float *x = malloc(n * sh->x_floats * sizeof *x), *y = malloc(n * sh->y_floats * sizeof *y);
    int rc = !ids || !flips || !x || !y;
    char path[4096];
    snprintf(path, sizeof path, "%s/samples.txt", dir);
    FILE *txt = rc ? NULL : fopen(path, "w");
    rc = rc || !txt;
    if (txt)
        fprintf(txt, "samples %llu\n", (unsigned long long)sh->samples);
    for (size_t i = 0; !rc && i < n; i++) {
        char *end;
        ids[i] = strtoull(argv[7 + i], &end, 10);
        flips[i] = *end == 'f';
        vbp_sample s;
        rc = vbp_loader_sample(ld, ids[i], &s);
        if (!rc)
            fprintf(txt, "%llu %llu %llu %llu %d\n", (unsigned long long)ids[i],
                    (unsigned long long)s.clip, (unsigned long long)s.first_frame,
                    (unsigned long long)s.clip_frame, flips[i]);
    }
    if (txt && fclose(txt))
        rc = 1;
    if (!rc && vbp_loader_assemble(ld, ids, flips, n, x, y, &err)) {
        fprintf(stderr, "window_dump: %s\n", vbp_error_message(&err));
        rc = 1;
    }
    rc = rc || dump(dir, "x.f32", x, n * sh->x_floats) || dump(dir, "y.f32", y, n * sh->y_floats);
    if (!rc && strcmp(weights, "-")) {
        vbp_net_config nc = {sh->seq * sh->channels, sh->seq, sh->height, sh->width, (uint32_t)n, 1,
                              NULL};
        vbp_net *net = NULL;
        rc = vbp_net_weights_config(weights, &nc, &err) || vbp_net_create(&nc, 0, &net, &err) ||
             vbp_net_load_safetensors(net, weights, &err) || vbp_net_forward(net, x, n, 0, &err);
        if (rc)
            fprintf(stderr, "window_dump: %s\n", vbp_error_message(&err));
        else
            rc = dump(dir, "probs.f32", vbp_net_output(net), n * sh->seq * sh->height * sh->width);
        vbp_net_free(net);
    }
    if (rc)
        fprintf(stderr, "window_dump: failed\n");
    free(ids), free(flips), free(x), free(y);
    vbp_loader_close(ld);
    return rc ? 1 : 0;
}

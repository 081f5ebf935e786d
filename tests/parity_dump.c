/*
 * parity_dump - run one training step of the C network and dump everything
 * tests/torch_parity.py compares with PyTorch.
 *   parity_dump OUTDIR IN_CHANNELS SEQ HEIGHT WIDTH BATCH WEIGHT_DECAY
 * Writes OUTDIR/weights.safetensors (initial state dict) and
 * OUTDIR/result.safetensors: x, y, probs, loss, grad.<param>, stats.<buffer>
 * (running stats after the training forward), adam.<param> (after one
 * AdamW(lr 1e-3, weight_decay) step; Adam when weight_decay is 0),
 * probs_eval (eval-mode forward after the step).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vbp_net.h"
#include "vbp_safetensors.h"

#define MAXT 256

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: parity_dump OUTDIR IN_CHANNELS SEQ HEIGHT WIDTH BATCH WD\n");
        return 2;
    }
    vbp_net_config cfg = {(uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]),
                          (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]),
                          (uint32_t)atoi(argv[6]), 2};
    const float wd = (float)atof(argv[7]);
    vbp_net *net;
    vbp_error err;
    char path[4096];
    if (vbp_net_create(&cfg, 2024, &net, &err)) {
        fprintf(stderr, "parity_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    const size_t n = cfg.max_batch, P = (size_t)cfg.height * cfg.width;
    const size_t nx = n * cfg.in_channels * P, ny = n * cfg.out_channels * P;
    float *x = malloc(nx * 4), *y = malloc(ny * 4);
    uint64_t s = 77;
    for (size_t i = 0; i < nx; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)(s >> 40) * 0x1.0p-24f;
    }
    for (size_t i = 0; i < ny; i++) { /* a blob per heatmap plus soft values */
        const size_t r = (i % P) / cfg.width, c = i % cfg.width;
        const int dy = (int)r - (int)cfg.height / 2, dx = (int)c - (int)(cfg.width / 3);
        y[i] = dy * dy + dx * dx <= 9 ? 1.0f : (dy * dy + dx * dx <= 25 ? 0.5f : 0.0f);
    }
    snprintf(path, sizeof path, "%s/weights.safetensors", argv[1]);
    if (vbp_net_save_safetensors(net, path, &err)) {
        fprintf(stderr, "parity_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    static vbp_st_tensor ts[MAXT];
    static char names[MAXT][64];
    size_t k = 0;
    float loss;
    vbp_net_zero_grad(net);
    if (vbp_net_forward(net, x, n, 1, &err) || vbp_net_loss(net, y, &loss, &err) ||
        vbp_net_backward(net, &err)) {
        fprintf(stderr, "parity_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    const uint64_t shp[4] = {n, cfg.in_channels, cfg.height, cfg.width};
    const uint64_t shy[4] = {n, cfg.out_channels, cfg.height, cfg.width};
    float *probs = malloc(ny * 4), *probs_eval = malloc(ny * 4);
    memcpy(probs, vbp_net_output(net), ny * 4);
    ts[k++] = (vbp_st_tensor){"x", VBP_ST_F32, 4, {shp[0], shp[1], shp[2], shp[3]}, x};
    ts[k++] = (vbp_st_tensor){"y", VBP_ST_F32, 4, {shy[0], shy[1], shy[2], shy[3]}, y};
    ts[k++] = (vbp_st_tensor){"probs", VBP_ST_F32, 4, {shy[0], shy[1], shy[2], shy[3]}, probs};
    ts[k++] = (vbp_st_tensor){"loss", VBP_ST_F32, 1, {1}, &loss};
    const size_t np = vbp_net_param_count(net), nb = vbp_net_buffer_count(net);
    float *grads = malloc(np * 4), *stats = malloc(nb * 4), *after = malloc(np * 4);
    memcpy(grads, vbp_net_grads(net), np * 4);
    memcpy(stats, vbp_net_buffers(net), nb * 4);
    vbp_adam_config adam;
    vbp_adam_defaults(&adam);
    adam.weight_decay = wd;
    adam.decoupled = wd != 0;
    if (vbp_net_adam_step(net, &adam, 1e-3f, &err) || vbp_net_forward(net, x, n, 0, &err)) {
        fprintf(stderr, "parity_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    memcpy(after, vbp_net_params(net), np * 4);
    memcpy(probs_eval, vbp_net_output(net), ny * 4);
    ts[k++] = (vbp_st_tensor){"probs_eval", VBP_ST_F32, 4, {shy[0], shy[1], shy[2], shy[3]},
                              probs_eval};
    for (size_t i = 0; i < vbp_net_tensor_count(net); i++) {
        vbp_net_tensor t;
        vbp_net_tensor_info(net, i, &t);
        if (t.kind == VBP_TENSOR_COUNTER)
            continue;
        for (int pass = 0; pass < (t.kind == VBP_TENSOR_PARAM ? 2 : 1); pass++) {
            const char *pre = t.kind == VBP_TENSOR_BUFFER ? "stats" : pass ? "adam" : "grad";
            const float *src = t.kind == VBP_TENSOR_BUFFER ? stats : pass ? after : grads;
            snprintf(names[k], sizeof names[k], "%s.%s", pre, t.name);
            ts[k] = (vbp_st_tensor){names[k], VBP_ST_F32, t.ndim, {0}, src + t.offset};
            for (uint32_t d = 0; d < t.ndim; d++)
                ts[k].shape[d] = t.shape[d];
            k++;
        }
    }
    snprintf(path, sizeof path, "%s/result.safetensors", argv[1]);
    if (vbp_safetensors_write(path, ts, k, NULL, 0, &err)) {
        fprintf(stderr, "parity_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    free(x), free(y), free(probs), free(probs_eval), free(grads), free(stats), free(after);
    vbp_net_free(net);
    return 0;
}

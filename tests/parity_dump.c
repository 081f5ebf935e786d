/*
 * parity_dump - run a few training steps of the C network and dump everything
 * tests/torch_parity.py compares with PyTorch.
 *   parity_dump OUTDIR IN_CHANNELS SEQ HEIGHT WIDTH BATCH WEIGHT_DECAY [MODEL]
 * Writes OUTDIR/weights.safetensors (initial state dict) and
 * OUTDIR/result.safetensors: x, y, then for each step k < STEPS: k.probs,
 * k.loss, k.grad.<param>, k.stats.<buffer> (running stats after the step's
 * training forward), k.adam.<param> (after the step's AdamW(lr 1e-3,
 * weight_decay) update; Adam when weight_decay is 0); then probs_eval
 * (eval-mode forward after the last step).  MODEL: an architecture name
 * (default VballNetFastV1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vbp_net.h"
#include "vbp_safetensors.h"

#define MAXT 1024
#define STEPS 3

static vbp_st_tensor ts[MAXT];
static char names[MAXT][64];
static size_t k;

/* Append tensor `name` (prefix.name) of shape dims to the dump; data must outlive the dump. */
static void put(const char *prefix, const char *name, uint32_t ndim, const uint64_t *dims,
                const float *data)
{
    snprintf(names[k], sizeof names[k], "%s%s%s", prefix, *prefix ? "." : "", name);
    ts[k] = (vbp_st_tensor){names[k], VBP_ST_F32, ndim, {0}, data};
    for (uint32_t d = 0; d < ndim; d++)
        ts[k].shape[d] = dims[d];
    k++;
}

static float *copy(const float *src, size_t n)
{
    float *d = malloc(n * sizeof *d);
    memcpy(d, src, n * sizeof *d);
    return d;
}

static int fail(const vbp_error *err)
{
    fprintf(stderr, "parity_dump: %s\n", vbp_error_message(err));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: parity_dump OUTDIR IN_CHANNELS SEQ HEIGHT WIDTH BATCH WD [MODEL]\n");
        return 2;
    }
    vbp_net_config cfg = {(uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]),
                          (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]),
                          (uint32_t)atoi(argv[6]), 2, argc == 9 ? argv[8] : NULL};
    const float wd = (float)atof(argv[7]);
    vbp_net *net;
    vbp_error err;
    char path[4096];
    if (vbp_net_create(&cfg, 2024, &net, &err))
        return fail(&err);
    /* VballNetV1's Keras init (0.05) leaves pointwise outputs so small that the first Adam step
     * (lr 1e-3 on the biases) makes most channels one-signed; their bias gradients are then zero
     * up to rounding, and a relative comparison would compare noise.  Weights of Glorot's size
     * keep every gradient generic (the init itself is tested in test_net). */
    for (size_t i = 0; !strcmp(vbp_net_get_config(net)->model, "VballNetV1") &&
                       i < vbp_net_tensor_count(net); i++) {
        vbp_net_tensor t;
        vbp_net_tensor_info(net, i, &t);
        for (size_t j = 0; t.ndim == 4 && j < t.numel; j++)
            vbp_net_params(net)[t.offset + j] *= 8;
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
    if (vbp_net_save_safetensors(net, path, &err))
        return fail(&err);
    const uint64_t shx[4] = {n, cfg.in_channels, cfg.height, cfg.width};
    const uint64_t shy[4] = {n, cfg.out_channels, cfg.height, cfg.width}, one = 1;
    put("", "x", 4, shx, x);
    put("", "y", 4, shy, y);
    const size_t np = vbp_net_param_count(net), nb = vbp_net_buffer_count(net);
    vbp_adam_config adam;
    vbp_adam_defaults(&adam);
    adam.weight_decay = wd;
    adam.decoupled = wd != 0;
    float loss[STEPS];
    for (int step = 0; step < STEPS; step++) {
        char pre[3][16];
        snprintf(pre[0], sizeof pre[0], "%d.grad", step);
        snprintf(pre[1], sizeof pre[1], "%d.stats", step);
        snprintf(pre[2], sizeof pre[2], "%d.adam", step);
        vbp_net_zero_grad(net);
        if (vbp_net_forward(net, x, n, 1, &err) || vbp_net_loss(net, y, &loss[step], &err) ||
            vbp_net_backward(net, &err))
            return fail(&err);
        char name[16];
        snprintf(name, sizeof name, "%d.probs", step);
        put("", name, 4, shy, copy(vbp_net_output(net), ny));
        snprintf(name, sizeof name, "%d.loss", step);
        put("", name, 1, &one, &loss[step]);
        const float *grads = copy(vbp_net_grads(net), np), *stats = copy(vbp_net_buffers(net), nb);
        if (vbp_net_adam_step(net, &adam, 1e-3f, &err))
            return fail(&err);
        const float *after = copy(vbp_net_params(net), np);
        for (size_t i = 0; i < vbp_net_tensor_count(net); i++) {
            vbp_net_tensor t;
            vbp_net_tensor_info(net, i, &t);
            uint64_t dims[4];
            for (uint32_t d = 0; d < t.ndim; d++)
                dims[d] = t.shape[d];
            if (t.kind == VBP_TENSOR_BUFFER)
                put(pre[1], t.name, t.ndim, dims, stats + t.offset);
            if (t.kind != VBP_TENSOR_PARAM)
                continue;
            put(pre[0], t.name, t.ndim, dims, grads + t.offset);
            put(pre[2], t.name, t.ndim, dims, after + t.offset);
        }
    }
    if (vbp_net_forward(net, x, n, 0, &err))
        return fail(&err);
    put("", "probs_eval", 4, shy, copy(vbp_net_output(net), ny));
    snprintf(path, sizeof path, "%s/result.safetensors", argv[1]);
    if (vbp_safetensors_write(path, ts, k, NULL, 0, &err))
        return fail(&err);
    vbp_net_free(net); /* the copies are released at exit */
    return 0;
}

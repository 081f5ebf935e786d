/*
 * vbp_net.h - networks of the VballNet family (VballNetFastV1, VballNetV1): forward,
 * loss, backward, Adam, save/load.
 *
 * Channels first (N,C,H,W), float32.  The architectures, tensor names and the exact
 * PyTorch semantics followed are in docs/network.md; each architecture is a
 * description (src/nn/arch.c) that the state dict, the arena and the schedules
 * of one engine follow.  One vbp_net owns:
 *   - parameters, their gradients and the Adam moments m and v: four flat
 *     float buffers of vbp_net_param_count() floats each, laid out identically
 *     (tensor i occupies [offset, offset+numel) in every one of them);
 *   - the BatchNorm running statistics: one flat float buffer of
 *     vbp_net_buffer_count() floats, and one num_batches_tracked counter
 *     (all blocks share it: they see the same batches);
 *   - an activation arena sized for cfg.max_batch at creation: forward,
 *     loss, backward and the optimizer step never allocate.
 *
 * Results are deterministic and do not depend on the thread count: every
 * reduction is split into fixed chunks whose partial sums are added in a
 * fixed order.  On a machine shared with other work, run with
 * OMP_WAIT_POLICY=passive (docs/performance.md, "Training speed").
 *
 * Typical training step:
 *     vbp_net_zero_grad(net);
 *     vbp_net_forward(net, x, n, 1, err);
 *     vbp_net_loss(net, y, &loss, err);
 *     vbp_net_backward(net, err);
 *     vbp_net_adam_step(net, &adam, vbp_lr_staircase(1e-3f, 0.9f, step, steps_per_decay), err);
 */
#ifndef VBP_NET_H
#define VBP_NET_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vbp_net vbp_net;

typedef struct vbp_net_config {
    uint32_t in_channels;  /* seq (grayscale) or 3*seq (RGB, frames concatenated in order) */
    uint32_t out_channels; /* seq: one heatmap per frame */
    uint32_t height, width;/* both > 0 and divisible by 2^levels (FastV1: 8, V1: 4) */
    uint32_t max_batch;    /* largest n passed to vbp_net_forward (sizes the arena) */
    uint32_t threads;      /* OpenMP threads; 0 = OpenMP's default.  They split the batch:
                              a batch smaller than this leaves threads idle */
    const char *model;     /* architecture, a vbp_net_model_name(); NULL: "VballNetFastV1".
                              vbp_net_get_config() of a net gives the name */
} vbp_net_config;

/* The architectures this library builds: name i < vbp_net_model_count() ("VballNetFastV1",
 * "VballNetV1"), NULL past the end. */
unsigned vbp_net_model_count(void);
const char *vbp_net_model_name(unsigned i);

/*
 * Create a network with uniform conv weights (Glorot's limit for FastV1, Keras' 0.05 for
 * V1) drawn from a private PRNG seeded by `seed` (same seed -> same weights), BN gamma 1,
 * beta 0, running mean 0, running var 1, biases 0, VballNetV1's motion scalars a = 0.1 and
 * b = 0, Adam moments 0, step counters 0.
 * Fails with VBP_E_ARG on a bad config (an unknown model among them), VBP_E_NOMEM when
 * the arena does not fit.
 */
int vbp_net_create(const vbp_net_config *cfg, uint64_t seed, vbp_net **out, vbp_error *err);
void vbp_net_free(vbp_net *net);
const vbp_net_config *vbp_net_get_config(const vbp_net *net);
/* Bytes allocated for parameters, optimizer state and the activation arena. */
size_t vbp_net_memory_bytes(const vbp_net *net);

/*
 * Forward pass on x (n,in_channels,H,W), 1 <= n <= max_batch.  x is copied.
 * training=1: BatchNorm normalises with the batch statistics, updates the
 * running statistics (momentum 0.1 FastV1, 0.01 V1) and increments num_batches_tracked;
 * the activations needed by vbp_net_backward are kept.
 * training=0: BatchNorm uses the running statistics; nothing is updated.
 * The probabilities (sigmoid of the output, n,out_channels,H,W) are then at
 * vbp_net_output(), valid until the next forward.
 */
int vbp_net_forward(vbp_net *net, const float *x, size_t n, int training, vbp_error *err);
const float *vbp_net_output(const vbp_net *net);

/*
 * Weighted BCE of the last forward's output against targets y (n,out,H,W,
 * values in [0,1]), averaged over all n*out*H*W elements (docs/network.md).
 * Stores *loss and keeps d loss / d logits for vbp_net_backward.
 * Fails with VBP_E_ARG if no forward was run.
 */
int vbp_net_loss(vbp_net *net, const float *y, float *loss, vbp_error *err);

/*
 * Back-propagate the last loss through the last forward, which must have
 * been a training forward followed by vbp_net_loss (else VBP_E_ARG).
 * ADDS the gradients into vbp_net_grads(); call vbp_net_zero_grad first.
 */
int vbp_net_backward(vbp_net *net, vbp_error *err);
void vbp_net_zero_grad(vbp_net *net);

/*
 * Instruction set of the layer kernels this process runs: "avx512", "avx2" or "generic".
 * Chosen at the first call (of this or of any layer): the best the CPU supports, or the
 * lower one named by the environment variable VBP_ISA=avx512|avx2|generic.  An unknown or
 * unsupported VBP_ISA prints one warning on stderr and the best set is used (docs/network.md).
 */
const char *vbp_net_isa_name(void);

/* ------------------------------------------------------------ flat buffers */

/* Trainable floats: the length of params, grads, adam_m and adam_v. */
size_t vbp_net_param_count(const vbp_net *net);
float *vbp_net_params(vbp_net *net);
float *vbp_net_grads(vbp_net *net);
float *vbp_net_adam_m(vbp_net *net);
float *vbp_net_adam_v(vbp_net *net);
/* BN running mean/var floats (not trainable). */
size_t vbp_net_buffer_count(const vbp_net *net);
float *vbp_net_buffers(vbp_net *net);
/* Counters: Adam steps taken (t in the bias correction) and BN num_batches_tracked. */
uint64_t vbp_net_adam_steps(const vbp_net *net);
void vbp_net_set_adam_steps(vbp_net *net, uint64_t t);
uint64_t vbp_net_batches_tracked(const vbp_net *net);
void vbp_net_set_batches_tracked(vbp_net *net, uint64_t count);

/* One named tensor of the state dict, in vbp_net_tensor_info(net, i, ...) order. */
typedef enum vbp_tensor_kind {
    VBP_TENSOR_PARAM = 0,  /* offset into params/grads/adam_m/adam_v */
    VBP_TENSOR_BUFFER = 1, /* offset into buffers (running_mean, running_var) */
    VBP_TENSOR_COUNTER = 2 /* num_batches_tracked: I64 scalar, offset unused */
} vbp_tensor_kind;

typedef struct vbp_net_tensor {
    const char *name;      /* PyTorch state-dict key, e.g. "enc1.pw.weight" */
    vbp_tensor_kind kind;
    uint32_t ndim;
    uint32_t shape[4];
    size_t offset, numel;
} vbp_net_tensor;

size_t vbp_net_tensor_count(const vbp_net *net);
/* Fill *t with tensor i < vbp_net_tensor_count(); VBP_E_ARG otherwise. */
int vbp_net_tensor_info(const vbp_net *net, size_t i, vbp_net_tensor *t);

/* --------------------------------------------------------------- optimizer */

typedef struct vbp_adam_config {
    float beta1, beta2;    /* 0.9, 0.999 */
    float eps;             /* 1e-8, added after the square root */
    float weight_decay;    /* 0 */
    int decoupled;         /* 0: Adam (L2 added to the gradient); 1: AdamW */
} vbp_adam_config;

/* Fill *cfg with PyTorch's defaults (Adam, no weight decay). */
void vbp_adam_defaults(vbp_adam_config *cfg);

/*
 * One PyTorch-semantics Adam/AdamW update of n floats in place, t = step
 * number after incrementing (>= 1).  Used by vbp_net_adam_step; exposed for
 * tests and other models.
 */
void vbp_adam_update(const vbp_adam_config *cfg, float lr, uint64_t t, size_t n,
                     float *param, const float *grad, float *m, float *v);

/* Increment the net's Adam step and update all parameters from vbp_net_grads(). */
int vbp_net_adam_step(vbp_net *net, const vbp_adam_config *cfg, float lr, vbp_error *err);

/*
 * Staircase exponential decay: lr0 * gamma^floor(step / steps_per_decay).
 * The public trainer uses gamma 0.9 and steps_per_decay = two epochs' steps.
 * steps_per_decay 0 means no decay.
 */
float vbp_lr_staircase(float lr0, float gamma, uint64_t step, uint64_t steps_per_decay);

/* ------------------------------------------------------------ save / load */

/*
 * Write the state dict (params, BN running stats as F32, num_batches_tracked
 * as I64 scalars) as safetensors, loadable by PyTorch's load_state_dict
 * (strict).  Written to a temporary file and renamed: no partial file at path.
 */
int vbp_net_save_safetensors(const vbp_net *net, const char *path, vbp_error *err);

/*
 * Read a state dict written by vbp_net_save_safetensors (or by PyTorch via
 * the safetensors package).  Every tensor of the net must be present with the
 * same shape; extra tensors are an error, and so is a metadata "model" other
 * than the net's.  On failure the net is unchanged and err names the file and
 * the tensor ("W.safetensors: tensor enc1.pw.weight has shape [8,9,1,1], this
 * network expects [8,3,1,1]").
 */
int vbp_net_load_safetensors(vbp_net *net, const char *path, vbp_error *err);

/*
 * The network a weights file holds: cfg->model (the metadata "model", or for a file without
 * it the architecture whose first tensor it has), cfg->in_channels and cfg->out_channels
 * (from the first depthwise and the head's bias); the other fields are left as they are.
 * Fails (VBP_E_IO, VBP_E_FORMAT) naming the file when it is not the weights of a known
 * architecture.
 */
int vbp_net_weights_config(const char *path, vbp_net_config *cfg, vbp_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * arch.c - the descriptions of the VballNet family (src/nn/arch.h, docs/network.md).
 */
#include <string.h>
#include "arch.h"
#include "layers.h"

/* VballNetFastV1 (../shared/BRIEF.md): four levels, widths 8 to 64, BatchNorm then ReLU,
 * bilinear upsampling, PyTorch's BatchNorm constants, Glorot-uniform weights. */
static const vbp_arch fastv1 = {
    .name = "VballNetFastV1",
    .block = {
        {"enc1", 8, VBP_IN_DIRECT, NULL},
        {"enc2", 16, VBP_IN_POOL, NULL},
        {"enc3", 32, VBP_IN_POOL, NULL},
        {"bottleneck", 64, VBP_IN_POOL, NULL},
        {"dec1", 32, VBP_IN_UP, "enc3"},
        {"dec2", 16, VBP_IN_UP, "enc2"},
        {"dec3", 8, VBP_IN_UP, "enc1"},
    },
    .order = VBP_BN_THEN_RELU,
    .up = VBP_UP_BILINEAR,
    .bn_eps = 1e-5,
    .bn_momentum = 0.1,
};

/* VballNetV1 (asigatchov/vball-net, src/model/VballNetV1.py): three levels, widths 32 to 128,
 * Keras' SeparableConv2D (pointwise bias) then ReLU then BatchNormalization (eps 1e-3, running
 * statistics 0.99 old + 0.01 batch), nearest upsampling, Keras' random_uniform weights, and the
 * motion prompt on the head's logits. */
static const vbp_arch v1 = {
    .name = "VballNetV1",
    .block = {
        {"enc1a", 32, VBP_IN_DIRECT, NULL},
        {"enc1b", 32, VBP_IN_DIRECT, NULL},
        {"enc2", 64, VBP_IN_POOL, NULL},
        {"bottleneck", 128, VBP_IN_POOL, NULL},
        {"dec1", 64, VBP_IN_UP, "enc2"},
        {"dec2", 32, VBP_IN_UP, "enc1b"},
    },
    .order = VBP_RELU_THEN_BN,
    .pw_bias = 1,
    .up = VBP_UP_NEAREST,
    .bn_eps = 1e-3,
    .bn_momentum = 0.01,
    .init_uniform = 0.05,
    .motion = 1,
    .min_frames = 2,
};

static const vbp_arch *const all[] = {&fastv1, &v1};

const vbp_arch *vbp_arch_find(const char *name)
{
    if (!name)
        return &fastv1;
    for (unsigned i = 0; i < vbp_arch_count(); i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}

unsigned vbp_arch_count(void)
{
    return (unsigned)(sizeof all / sizeof all[0]);
}

const vbp_arch *vbp_arch_at(unsigned i)
{
    return i < vbp_arch_count() ? all[i] : NULL;
}

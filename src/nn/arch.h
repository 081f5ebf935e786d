/*
 * arch.h - the VballNet family as data (internal).
 *
 * A network of the family is a chain of sep blocks (depthwise 3x3, pointwise 1x1, BatchNorm,
 * ReLU) from the input frames to a 1x1 head that makes one heatmap per frame.  Each block takes
 * the previous block's output as it is, max-pooled 2x2, or upsampled 2x and followed by the
 * channels of an earlier block of the same resolution (a U-Net skip).  A description names the
 * blocks, their widths and inputs, and the choices that differ between members (the order of
 * BatchNorm and ReLU, pointwise biases, the upsampling, BatchNorm's constants, the weight
 * initialisation, the motion prompt); src/nn/net.c derives the state dict, the arena, the
 * forward and backward schedules from it, and src/nn/onnx_export.c the ONNX graph.  Adding a
 * member is adding a description to src/nn/arch.c (docs/network.md, "Architectures as data").
 */
#ifndef VBP_ARCH_H
#define VBP_ARCH_H

#include <stdint.h>

#define VBP_ARCH_MAX_BLOCKS 16
#define VBP_ARCH_MAX_WIDTH 256 /* widest block output */
#define VBP_ARCH_MAX_HEAD_IN 64 /* widest last block (its tile feeds the fused head) */

/* How a block takes the previous block's output (block 0: the network input, as it is). */
typedef enum vbp_block_input {
    VBP_IN_DIRECT = 0, /* as it is */
    VBP_IN_POOL = 1,   /* 2x2 max pooling: half the resolution */
    VBP_IN_UP = 2      /* 2x upsampling, then the channels of `skip`: double the resolution */
} vbp_block_input;

typedef struct vbp_block_desc {
    const char *name;     /* state-dict prefix; NULL ends the list */
    uint32_t cout;        /* output channels */
    vbp_block_input input;
    const char *skip;     /* VBP_IN_UP: the earlier block concatenated after the upsampled
                             channels (NULL: none) */
} vbp_block_desc;

typedef struct vbp_arch {
    const char *name;      /* model name: weights' metadata, --model */
    vbp_block_desc block[VBP_ARCH_MAX_BLOCKS + 1];
    int order;             /* VBP_BN_THEN_RELU or VBP_RELU_THEN_BN (layers.h) */
    int pw_bias;           /* pointwise convolutions have a bias */
    int up;                /* VBP_UP_BILINEAR or VBP_UP_NEAREST */
    double bn_eps, bn_momentum;
    double init_uniform;   /* conv weights ~ U(-v, v); 0: Glorot uniform */
    int motion;            /* head logits x the motion prompt's attention (VballNetV1) */
    uint32_t min_frames;   /* smallest seq it takes (0: 1) */
} vbp_arch;

/* The description a network was made from (src/nn/net.c). */
struct vbp_net;
const vbp_arch *vbp_net_arch(const struct vbp_net *net);

/* The description called name (NULL: the default, VballNetFastV1), or NULL if none is. */
const vbp_arch *vbp_arch_find(const char *name);
/* Description i < vbp_arch_count(), in the order --help lists them. */
unsigned vbp_arch_count(void);
const vbp_arch *vbp_arch_at(unsigned i);

#endif

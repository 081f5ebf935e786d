/*
 * onnx_export.c - a network of the VballNet family as an ONNX ModelProto, the graph walked
 * from its description (src/nn/arch.h), written with a small protobuf encoder (varints and length-delimited fields; the field numbers
 * are those of onnx/onnx.proto).  include/vbp_onnx.h is the contract.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arch.h"
#include "internal.h"
#include "layers.h"
#include "vbp_onnx.h"
#include "vbp_train.h"
#include "vbp_util.h"

#define OPSET 13
#define IR_VERSION 7
#define ONNX_FLOAT 1

/* ---------------------------------------------------------------- protobuf */

typedef struct pb {
    uint8_t *p;
    size_t len, cap;
    int oom; /* sticky: every append after a failed allocation is a no-op */
} pb;

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static void pb_raw(pb *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void pb_varint(pb *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(b, t, n);
}

static void pb_key(pb *b, unsigned field, unsigned wire)
{
    pb_varint(b, (uint64_t)field << 3 | wire);
}

/* int32/int64/enum field (non-negative values only: that is all ONNX needs here). */
static void pb_int(pb *b, unsigned field, uint64_t v)
{
    pb_key(b, field, WIRE_VARINT);
    pb_varint(b, v);
}

static void pb_bytes(pb *b, unsigned field, const void *data, size_t n)
{
    pb_key(b, field, WIRE_LEN);
    pb_varint(b, n);
    pb_raw(b, data, n);
}

static void pb_str(pb *b, unsigned field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

/* Append sub as embedded message `field` of b and free sub. */
static void pb_msg(pb *b, unsigned field, pb *sub)
{
    if (sub->oom)
        b->oom = 1;
    else
        pb_bytes(b, field, sub->p, sub->len);
    free(sub->p);
    memset(sub, 0, sizeof *sub);
}

/* ------------------------------------------------------------ ONNX messages */

/* onnx.proto field numbers used below. */
enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOC = 6,
    MODEL_GRAPH = 7, MODEL_OPSET = 8, MODEL_METADATA = 14,
    OPSET_DOMAIN = 1, OPSET_VERSION = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INIT = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP = 4, NODE_ATTR = 5,
    ATTR_NAME = 1, ATTR_I = 3, ATTR_S = 4, ATTR_INTS = 8, ATTR_TYPE = 20,
    TENSOR_DIMS = 1, TENSOR_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW = 9,
    VI_NAME = 1, VI_TYPE = 2, TYPE_TENSOR = 1, TT_ELEM = 1, TT_SHAPE = 2, SHAPE_DIM = 1,
    DIM_VALUE = 1, DIM_PARAM = 2, KV_KEY = 1, KV_VALUE = 2
};
enum { ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS_TYPE = 7 }; /* AttributeProto.AttributeType */

/* Float tensor initializer: dims, little-endian raw data. */
static void add_init(pb *g, const char *name, const uint64_t *dims, int ndims, const float *v)
{
    pb t = {0};
    size_t n = 1;
    for (int d = 0; d < ndims; d++) {
        pb_int(&t, TENSOR_DIMS, dims[d]);
        n *= dims[d];
    }
    pb_int(&t, TENSOR_TYPE, ONNX_FLOAT);
    pb_str(&t, TENSOR_NAME, name);
    /* raw_data is little-endian float32: the host's layout on every target we build for. */
    pb_bytes(&t, TENSOR_RAW, v, n * sizeof(float));
    pb_msg(g, GRAPH_INIT, &t);
}

static void attr_int(pb *node, const char *name, uint64_t v)
{
    pb a = {0};
    pb_str(&a, ATTR_NAME, name);
    pb_int(&a, ATTR_TYPE, ATTR_INT);
    pb_int(&a, ATTR_I, v);
    pb_msg(node, NODE_ATTR, &a);
}

static void attr_ints(pb *node, const char *name, const uint64_t *v, int n)
{
    pb a = {0};
    pb_str(&a, ATTR_NAME, name);
    pb_int(&a, ATTR_TYPE, ATTR_INTS_TYPE);
    for (int i = 0; i < n; i++)
        pb_int(&a, ATTR_INTS, v[i]);
    pb_msg(node, NODE_ATTR, &a);
}

static void attr_str(pb *node, const char *name, const char *s)
{
    pb a = {0};
    pb_str(&a, ATTR_NAME, name);
    pb_int(&a, ATTR_TYPE, ATTR_STRING);
    pb_str(&a, ATTR_S, s);
    pb_msg(node, NODE_ATTR, &a);
}

/* Start a node: op, name, inputs (NULL-terminated; "" = absent optional input), one output. */
static pb node_begin(const char *op, const char *name, const char *const *in, const char *out)
{
    pb n = {0};
    for (; *in; in++)
        pb_str(&n, NODE_INPUT, *in);
    pb_str(&n, NODE_OUTPUT, out);
    pb_str(&n, NODE_NAME, name);
    pb_str(&n, NODE_OP, op);
    return n;
}

/* Graph input/output: float32 [N (symbolic), c, h, w]. */
static void add_value_info(pb *g, unsigned field, const char *name, uint64_t c, uint64_t h,
                           uint64_t w)
{
    pb shape = {0}, dim = {0}, tt = {0}, type = {0}, vi = {0};
    pb_str(&dim, DIM_PARAM, "N");
    pb_msg(&shape, SHAPE_DIM, &dim);
    const uint64_t fixed[3] = {c, h, w};
    for (int i = 0; i < 3; i++) {
        pb_int(&dim, DIM_VALUE, fixed[i]);
        pb_msg(&shape, SHAPE_DIM, &dim);
    }
    pb_int(&tt, TT_ELEM, ONNX_FLOAT);
    pb_msg(&tt, TT_SHAPE, &shape);
    pb_msg(&type, TYPE_TENSOR, &tt);
    pb_str(&vi, VI_NAME, name);
    pb_msg(&vi, VI_TYPE, &type);
    pb_msg(g, field, &vi);
}

static void add_meta(pb *m, const char *key, const char *value)
{
    pb kv = {0};
    pb_str(&kv, KV_KEY, key);
    pb_str(&kv, KV_VALUE, value);
    pb_msg(m, MODEL_METADATA, &kv);
}

/* ------------------------------------------------------------------- graph */

static const float *find_tensor(vbp_net *net, const char *name, vbp_net_tensor *t)
{
    for (size_t i = 0; i < vbp_net_tensor_count(net); i++) {
        vbp_net_tensor_info(net, i, t);
        if (!strcmp(t->name, name))
            return (t->kind == VBP_TENSOR_BUFFER ? vbp_net_buffers(net) : vbp_net_params(net)) +
                   t->offset;
    }
    return NULL; /* not reached: names below are the net's own */
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Per-channel constant [1, c, 1, 1] (a Mul/Add operand broadcast over N, H, W). */
static void add_channel_init(pb *g, const char *name, size_t c, const float *v)
{
    add_init(g, name, (const uint64_t[]){1, c, 1, 1}, 4, v);
}

/*
 * One sep block: depthwise Conv, pointwise Conv, ReLU and eval-mode BatchNorm as net.c applies
 * it (scale = gamma / sqrt(var + eps) computed in double and rounded to float, shift = beta -
 * mean * scale): BatchNorm before the ReLU is folded into the pointwise Conv (weights x scale,
 * bias shift + pointwise bias x scale); after it, Mul by scale and Add shift.  The output
 * tensor is called by the block's name.  VBP_E_NUMERIC when a weight is not finite.
 */
static int add_block(pb *g, vbp_net *net, const vbp_arch *arch, const char *name, const char *in,
                     vbp_error *err)
{
    char key[64], dwn[64], wn[64], bn[64], sn[64], tn[64];
    vbp_net_tensor tdw, tpw, tg, tb, tm, tv, tpb;
    snprintf(key, sizeof key, "%s.dw.weight", name);
    const float *dw = find_tensor(net, key, &tdw);
    snprintf(key, sizeof key, "%s.pw.weight", name);
    const float *pw = find_tensor(net, key, &tpw);
    snprintf(key, sizeof key, "%s.pw.bias", name);
    const float *pwb = arch->pw_bias ? find_tensor(net, key, &tpb) : NULL;
    snprintf(key, sizeof key, "%s.bn.weight", name);
    const float *gamma = find_tensor(net, key, &tg);
    snprintf(key, sizeof key, "%s.bn.bias", name);
    const float *beta = find_tensor(net, key, &tb);
    snprintf(key, sizeof key, "%s.bn.running_mean", name);
    const float *mean = find_tensor(net, key, &tm);
    snprintf(key, sizeof key, "%s.bn.running_var", name);
    const float *var = find_tensor(net, key, &tv);
    const size_t cout = tpw.shape[0], cin = tpw.shape[1];
    if (!all_finite(dw, tdw.numel) || !all_finite(pw, tpw.numel) || !all_finite(gamma, cout) ||
        !all_finite(beta, cout) || !all_finite(mean, cout) || !all_finite(var, cout) ||
        (pwb && !all_finite(pwb, cout)))
        return vbp_fail(err, VBP_E_NUMERIC, "block %s has a non-finite weight or statistic", name);
    for (size_t k = 0; k < cout; k++)
        if (!(var[k] >= 0))
            return vbp_fail(err, VBP_E_NUMERIC, "block %s: running_var[%zu] is negative", name, k);
    const int fold = arch->order == VBP_BN_THEN_RELU;
    float *w = malloc((cout * cin + 3 * cout) * sizeof *w);
    if (!w)
        return vbp_fail(err, VBP_E_NOMEM, "out of memory");
    float *bias = w + cout * cin, *scale = bias + cout, *shift = scale + cout;
    for (size_t k = 0; k < cout; k++) {
        const float invstd = (float)(1.0 / sqrt((double)var[k] + arch->bn_eps));
        scale[k] = gamma[k] * invstd;
        shift[k] = pwb && fold ? beta[k] + (pwb[k] - mean[k]) * scale[k]
                               : beta[k] - mean[k] * scale[k];
        bias[k] = fold ? shift[k] : pwb ? pwb[k] : 0;
        for (size_t c = 0; c < cin; c++)
            w[k * cin + c] = fold ? pw[k * cin + c] * scale[k] : pw[k * cin + c];
    }
    snprintf(dwn, sizeof dwn, "%s.dw.weight", name);
    snprintf(wn, sizeof wn, fold ? "%s.pw.weight_bn" : "%s.pw.weight", name);
    snprintf(bn, sizeof bn, fold ? "%s.pw.bias_bn" : "%s.pw.bias", name);
    add_init(g, dwn, (const uint64_t[]){cin, 1, 3, 3}, 4, dw);
    add_init(g, wn, (const uint64_t[]){cout, cin, 1, 1}, 4, w);
    add_init(g, bn, (const uint64_t[]){cout}, 1, bias);
    snprintf(sn, sizeof sn, "%s.bn.scale", name);
    snprintf(tn, sizeof tn, "%s.bn.shift", name);
    if (!fold) {
        add_channel_init(g, sn, cout, scale);
        add_channel_init(g, tn, cout, shift);
    }
    free(w);

    char nd[64], np[64], nr[64], od[64], op[64], orl[64], nm[64], om[64], na[64];
    snprintf(nd, sizeof nd, "%s.dw", name);
    snprintf(np, sizeof np, "%s.pw", name);
    snprintf(nr, sizeof nr, "%s.relu", name);
    snprintf(od, sizeof od, "%s.dw_out", name);
    snprintf(op, sizeof op, "%s.pw_out", name);
    snprintf(orl, sizeof orl, "%s.relu_out", name);
    snprintf(nm, sizeof nm, "%s.bn.mul", name);
    snprintf(om, sizeof om, "%s.bn.mul_out", name);
    snprintf(na, sizeof na, "%s.bn.add", name);
    pb n = node_begin("Conv", nd, (const char *[]){in, dwn, NULL}, od);
    attr_int(&n, "group", cin);
    attr_ints(&n, "kernel_shape", (const uint64_t[]){3, 3}, 2);
    attr_ints(&n, "pads", (const uint64_t[]){1, 1, 1, 1}, 4);
    pb_msg(g, GRAPH_NODE, &n);
    n = node_begin("Conv", np, (const char *[]){od, wn, bn, NULL}, op);
    attr_ints(&n, "kernel_shape", (const uint64_t[]){1, 1}, 2);
    pb_msg(g, GRAPH_NODE, &n);
    n = node_begin("Relu", nr, (const char *[]){op, NULL}, fold ? name : orl);
    pb_msg(g, GRAPH_NODE, &n);
    if (!fold) {
        n = node_begin("Mul", nm, (const char *[]){orl, sn, NULL}, om);
        pb_msg(g, GRAPH_NODE, &n);
        n = node_begin("Add", na, (const char *[]){om, tn, NULL}, name);
        pb_msg(g, GRAPH_NODE, &n);
    }
    return VBP_OK;
}

/*
 * The motion prompt (docs/network.md) on the graph input: d = Conv1x1(frames, D) with D [S, C]
 * = 0.225 x (the differences of frames) x (the gray weights) (the 0.45 offset cancels in the
 * differences), attention = Sigmoid(k * (Abs(d) - c)) with k and c from motion.a and motion.b;
 * out = logits * attention.  VBP_E_NUMERIC when a or b is not finite.
 */
static int add_motion(pb *g, vbp_net *net, uint32_t C, uint32_t S, const char *logits,
                      const char *out, vbp_error *err)
{
    vbp_net_tensor ta, tb;
    const float a = *find_tensor(net, "motion.a", &ta), b = *find_tensor(net, "motion.b", &tb);
    if (!isfinite(a) || !isfinite(b))
        return vbp_fail(err, VBP_E_NUMERIC, "motion.a or motion.b is not finite");
    const uint32_t cf = C / S;
    const float gray[3] = {0.299f, 0.587f, 0.114f};
    float *d = calloc((size_t)S * C, sizeof *d);
    if (!d)
        return vbp_fail(err, VBP_E_NOMEM, "out of memory");
    for (uint32_t t = 0; t < S; t++) {
        const uint32_t t0 = t ? t - 1 : 0, t1 = t + 1 < S ? t + 1 : S - 1;
        const float half = t > 0 && t + 1 < S ? 0.5f : 1.0f;
        for (uint32_t c = 0; c < cf; c++) {
            const float wgt = 0.225f * half * (cf == 1 ? 1.0f : gray[c]);
            d[t * C + t1 * cf + c] += wgt;
            d[t * C + t0 * cf + c] -= wgt;
        }
    }
    const float k = (float)(5.0 / (0.45 * fabs(tanh((double)a)) + 0.1));
    const float cc = (float)(0.6 * tanh((double)b));
    add_init(g, "motion.diff", (const uint64_t[]){S, C, 1, 1}, 4, d);
    free(d);
    add_init(g, "motion.k", NULL, 0, &k);
    add_init(g, "motion.c", NULL, 0, &cc);
    pb n = node_begin("Conv", "motion.diff", (const char *[]){"frames", "motion.diff", NULL},
                      "motion.d");
    attr_ints(&n, "kernel_shape", (const uint64_t[]){1, 1}, 2);
    pb_msg(g, GRAPH_NODE, &n);
    static const char *const chain[][4] = {
        {"Abs", "motion.abs", "motion.d", NULL},
        {"Sub", "motion.sub", "motion.abs", "motion.c"},
        {"Mul", "motion.mul", "motion.sub", "motion.k"},
        {"Sigmoid", "motion.attention", "motion.mul", NULL},
    };
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        n = node_begin(chain[i][0], chain[i][1], (const char *[]){chain[i][2], chain[i][3], NULL},
                       chain[i][1]);
        pb_msg(g, GRAPH_NODE, &n);
    }
    n = node_begin("Mul", "motion.fuse", (const char *[]){logits, "motion.attention", NULL}, out);
    pb_msg(g, GRAPH_NODE, &n);
    return VBP_OK;
}

/* Build the whole ModelProto of net's architecture into *m. */
static int build_model(pb *m, vbp_net *net, uint32_t frame_channels, const char *threshold,
                       uint32_t h, uint32_t w, vbp_error *err)
{
    const vbp_net_config *cfg = vbp_net_get_config(net);
    const vbp_arch *arch = vbp_net_arch(net);
    const uint32_t C = cfg->in_channels, S = cfg->out_channels;
    pb g = {0};
    int rc = VBP_OK;
    add_init(&g, "up_scales", (const uint64_t[]){4}, 1, (const float[]){1, 1, 2, 2});
    const char *last = NULL;
    for (size_t b = 0; !rc && b < VBP_ARCH_MAX_BLOCKS && arch->block[b].name; b++) {
        const vbp_block_desc *d = &arch->block[b];
        char in[64], up[64];
        snprintf(in, sizeof in, "%s", b ? last : "frames");
        if (d->input == VBP_IN_POOL) {
            snprintf(in, sizeof in, "%s.pool", last);
            pb n = node_begin("MaxPool", in, (const char *[]){last, NULL}, in);
            attr_ints(&n, "kernel_shape", (const uint64_t[]){2, 2}, 2);
            attr_ints(&n, "strides", (const uint64_t[]){2, 2}, 2);
            pb_msg(&g, GRAPH_NODE, &n);
        } else if (d->input == VBP_IN_UP) {
            snprintf(up, sizeof up, "%s.up", d->name);
            pb n = node_begin("Resize", up, (const char *[]){last, "", "up_scales", NULL}, up);
            if (arch->up == VBP_UP_NEAREST) { /* out[y] = in[floor(y / 2)] */
                attr_str(&n, "mode", "nearest");
                attr_str(&n, "coordinate_transformation_mode", "asymmetric");
                attr_str(&n, "nearest_mode", "floor");
            } else {
                attr_str(&n, "mode", "linear");
                attr_str(&n, "coordinate_transformation_mode", "half_pixel");
            }
            pb_msg(&g, GRAPH_NODE, &n);
            snprintf(in, sizeof in, "%s.cat", d->name);
            n = node_begin("Concat", in, (const char *[]){up, d->skip, NULL}, in);
            attr_int(&n, "axis", 1);
            pb_msg(&g, GRAPH_NODE, &n);
        }
        rc = add_block(&g, net, arch, d->name, in, err);
        last = d->name;
    }
    if (!rc) {
        vbp_net_tensor tw, tb;
        const float *hw = find_tensor(net, "head.weight", &tw), *hb = find_tensor(net, "head.bias", &tb);
        if (!all_finite(hw, tw.numel) || !all_finite(hb, tb.numel))
            rc = vbp_fail(err, VBP_E_NUMERIC, "head has a non-finite weight");
        add_init(&g, "head.weight", (const uint64_t[]){S, tw.shape[1], 1, 1}, 4, hw);
        add_init(&g, "head.bias", (const uint64_t[]){S}, 1, hb);
        pb n = node_begin("Conv", "head", (const char *[]){last, "head.weight", "head.bias", NULL},
                          "logits");
        attr_ints(&n, "kernel_shape", (const uint64_t[]){1, 1}, 2);
        pb_msg(&g, GRAPH_NODE, &n);
    }
    if (!rc && arch->motion)
        rc = add_motion(&g, net, C, S, "logits", "fused", err);
    if (!rc) {
        pb n = node_begin("Sigmoid", "sigmoid",
                          (const char *[]){arch->motion ? "fused" : "logits", NULL}, "heatmaps");
        pb_msg(&g, GRAPH_NODE, &n);
    }
    pb_str(&g, GRAPH_NAME, arch->name);
    add_value_info(&g, GRAPH_INPUT, "frames", C, h, w);
    add_value_info(&g, GRAPH_OUTPUT, "heatmaps", S, h, w);

    pb opset = {0};
    pb_str(&opset, OPSET_DOMAIN, "");
    pb_int(&opset, OPSET_VERSION, OPSET);
    pb_int(m, MODEL_IR_VERSION, IR_VERSION);
    pb_msg(m, MODEL_OPSET, &opset);
    pb_str(m, MODEL_PRODUCER, "vbpack");
    pb_str(m, MODEL_PRODUCER_VERSION, VBP_VERSION_STRING);
    char doc[128];
    snprintf(doc, sizeof doc, "%s inference graph (BatchNorm folded), docs/network.md", arch->name);
    pb_str(m, MODEL_DOC, doc);
    pb_msg(m, MODEL_GRAPH, &g);
    char num[16];
    snprintf(num, sizeof num, "%u", S);
    add_meta(m, "seq", num);
    snprintf(num, sizeof num, "%u", frame_channels);
    add_meta(m, "channels", num);
    add_meta(m, "model", arch->name);
    if (C != S * frame_channels) /* the last frame_channels planes of the input */
        add_meta(m, "background", "median");
    if (threshold)
        add_meta(m, "threshold", threshold);
    if (!rc && m->oom)
        rc = vbp_fail(err, VBP_E_NOMEM, "out of memory building the model");
    return rc;
}

/* vbp_onnx_write with metadata_props "threshold" = threshold when not NULL. */
static int onnx_write(vbp_net *net, uint32_t frame_channels, const char *threshold,
                      uint32_t height, uint32_t width, const char *path, vbp_error *err)
{
    if (!height && !width)
        height = VBP_ONNX_DEFAULT_HEIGHT, width = VBP_ONNX_DEFAULT_WIDTH;
    const vbp_net_config *cfg = vbp_net_get_config(net);
    if (!height || !width || height % 8 || width % 8 || height > 65536 || width > 65536)
        return vbp_fail(err, VBP_E_ARG, "%s: ONNX input size %ux%u: width and height must be "
                        "positive multiples of 8", path, width, height);
    if (vbp_net_arch(net)->motion && (frame_channels != 1 && frame_channels != 3))
        return vbp_fail(err, VBP_E_ARG, "%s: the motion prompt takes frames of 1 or 3 channels",
                        path);
    /* seq frames, or seq frames and the background (no motion prompt: it reads the frames) */
    const uint32_t frames = frame_channels ? cfg->in_channels / frame_channels : 0;
    if (!frame_channels || cfg->in_channels % frame_channels ||
        (frames != cfg->out_channels &&
         (frames != cfg->out_channels + 1 || vbp_net_arch(net)->motion)))
        return vbp_fail(err, VBP_E_ARG, "%s: %u frame channels do not fit a network with %u "
                        "inputs and %u outputs", path, frame_channels, cfg->in_channels,
                        cfg->out_channels);
    pb m = {0};
    int rc = build_model(&m, net, frame_channels, threshold, height, width, err);
    if (rc) {
        free(m.p);
        /* build_model's messages name the part of the network; prefix the path */
        if (err) {
            char d[VBP_ERROR_DETAIL_MAX];
            snprintf(d, sizeof d, "%s", err->detail);
            vbp_fail(err, rc, "%s: %s", path, d);
        }
        return rc;
    }
    rc = vbp_atomic_write_file(path, m.p, m.len, err);
    free(m.p);
    return rc;
}

int vbp_onnx_write(vbp_net *net, uint32_t frame_channels, uint32_t height, uint32_t width,
                   const char *path, vbp_error *err)
{
    return onnx_write(net, frame_channels, NULL, height, width, path, err);
}

int vbp_onnx_export(const char *weights, uint32_t height, uint32_t width, const char *path,
                    vbp_error *err)
{
    vbp_net_config nc;
    memset(&nc, 0, sizeof nc);
    uint32_t channels, background;
    float threshold;
    int rc = vbp_weights_net(weights, &nc, &channels, &background, err);
    if (!rc) /* the one eval, predict and track would use: the weights', else the default */
        rc = vbp_weights_threshold(weights, 0.0f, &threshold, err);
    if (rc)
        return rc;
    char thr[32];
    snprintf(thr, sizeof thr, "%g", (double)threshold);
    /* The weights do not depend on the frame size: load them into the smallest net. */
    nc.height = nc.width = 8, nc.max_batch = nc.threads = 1;
    vbp_net *net;
    rc = vbp_net_create(&nc, 0, &net, err);
    if (!rc)
        rc = vbp_net_load_safetensors(net, weights, err);
    if (!rc)
        rc = onnx_write(net, channels, thr, height, width, path, err);
    vbp_net_free(net);
    return rc;
}

/*
 * net.c - a network of the VballNet family from its description (src/nn/arch.h): state dict
 * layout, arena, forward, loss, backward, Adam step.  The architectures and the names are
 * documented in docs/network.md.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "arch.h"
#include "internal.h"
#include "layers.h"
#include "vbp_net.h"

#define MAX_TENSORS (VBP_ARCH_MAX_BLOCKS * 8 + 4)
#define LOSS_EPS 1e-7

/* One sep block of the chain, as the description and the config make it. */
typedef struct sep_block {
    const char *name;
    size_t cin, cout, level;      /* level l works at (H >> l, W >> l) */
    int input;                    /* VBP_IN_* */
    int skip;                     /* block concatenated after the upsampled channels, or -1 */
    int pooled, skipped;          /* the next block pools this output / a block skips to it */
    size_t dw, pw, pwb, gamma, beta; /* offsets in params/grads (pwb: SIZE_MAX without bias) */
    size_t rmean, rvar;           /* offsets in buffers */
    float *z, *y;                 /* [N,cout,P] BatchNorm input, block output */
    float *mean, *invstd;         /* [cout] statistics used by the last forward */
    float *pw_part;               /* pointwise weight-gradient sums (per unit, all samples) */
    double *dw_part;              /* depthwise weight-gradient sums (per plane) */
    float *pool;                  /* [N,cout,P/4] the max pooling of y (pooled) */
    float *dy;                    /* [N,cout,P] the gradient of y when pooled or skipped (it
                                     gathers two contributions); else a ping-pong buffer */
} sep_block;

struct vbp_net {
    vbp_net_config cfg;
    const vbp_arch *arch;
    int nt;
    size_t nb;         /* blocks */
    size_t nparams, nbuffers, mem_bytes, ntensors;
    float *params, *grads, *adam_m, *adam_v, *buffers; /* all in `state` */
    uint64_t adam_t, batches;
    sep_block blk[VBP_ARCH_MAX_BLOCKS];
    size_t head_w, head_b;
    size_t mot_a, mot_b;      /* motion prompt scalars (arch->motion) */
    /* arena */
    float *x;          /* [N,Cin,P0] copy of the input */
    float *probs;      /* [N,S,P0] */
    float *dlogits;    /* [N,S,P0] */
    float *hz, *att, *dabs; /* [N,S,P0] head logits, attention, |frame difference| (motion) */
    double *mpart;     /* motion gradient sums per (sample, frame) */
    float *gA, *gB;    /* gradient ping-pong buffers: sample s at s * gs */
    size_t gs;         /* floats per sample slot of gA, gB (the widest tensor they hold) */
    float *head_part;  /* head weight/bias gradient partial sums */
    float *sep_scratch; /* per thread sep_ss floats for the fused forward passes (gA if it fits) */
    size_t sep_ss;
    float *bwd_scratch; /* per thread bwd_ss floats for the fused backward blocks */
    size_t bwd_ss;
    int unfused;        /* eval forward with the layer-by-layer path (tests: vbp_net_set_fused) */
    double *bnpart[2]; /* BN per-plane sums, alternating between consecutive phases */
    double *dpart;     /* loss chunk sums */
    size_t n;          /* batch of the last forward */
    int state;         /* 0 nothing, 1 eval forward, 2 training forward, 3 + loss */
    vbp_net_tensor tensors[MAX_TENSORS];
    char names[MAX_TENSORS][48];
    void *state_mem, *arena_mem;
};

static size_t plane(const vbp_net *net, size_t level)
{
    return (size_t)(net->cfg.height >> level) * (net->cfg.width >> level);
}

/*
 * The blocks of net->arch for net->cfg: channels, levels, skips, which outputs are pooled and
 * which gradients gather two contributions.  Returns NULL, or what makes the description one
 * that the schedules below cannot run.
 */
static const char *build(vbp_net *net, size_t *levels)
{
    const vbp_arch *a = net->arch;
    size_t nb = 0, level = 0, top = 0;
    while (nb < VBP_ARCH_MAX_BLOCKS && a->block[nb].name)
        nb++;
    if (nb == 0)
        return "it has no blocks";
    for (size_t b = 0; b < nb; b++) {
        const vbp_block_desc *d = &a->block[b];
        sep_block *B = &net->blk[b];
        memset(B, 0, sizeof *B);
        B->name = d->name, B->cout = d->cout, B->input = d->input, B->skip = -1;
        if (d->cout == 0 || d->cout > VBP_ARCH_MAX_WIDTH || strlen(d->name) > 24)
            return "a block is wider than 256 channels or its name longer than 24 bytes";
        if (b == 0 && d->input != VBP_IN_DIRECT)
            return "its first block does not take the input as it is";
        B->cin = b ? net->blk[b - 1].cout : net->cfg.in_channels;
        if (d->input == VBP_IN_POOL)
            net->blk[b - 1].pooled = 1, level++;
        if (d->input == VBP_IN_UP && (level-- == 0 || !d->skip))
            return "an upsampling goes above full resolution or has no skip";
        if (d->skip) {
            int k = -1;
            for (size_t j = 0; j + 1 < b; j++)
                k = !strcmp(a->block[j].name, d->skip) ? (int)j : k;
            if (d->input != VBP_IN_UP || k < 0 || net->blk[k].level != level ||
                net->blk[k].skipped)
                return "a skip is not an earlier block of the same resolution, used once, after "
                       "an upsampling";
            B->skip = k, net->blk[k].skipped = 1, B->cin += net->blk[k].cout;
        }
        B->level = level;
        top = level > top ? level : top;
    }
    if (net->blk[nb - 1].level != 0 || net->blk[nb - 1].cout > VBP_ARCH_MAX_HEAD_IN)
        return "its last block is not at full resolution or wider than 64 channels";
    net->nb = nb;
    *levels = top;
    return NULL;
}

static void add_tensor(vbp_net *net, const char *prefix, const char *suffix,
                       vbp_tensor_kind kind, uint32_t ndim, const uint32_t *shape, size_t *cursor)
{
    const size_t k = net->ntensors++;
    vbp_net_tensor *t = &net->tensors[k];
    snprintf(net->names[k], sizeof net->names[k], "%s.%s", prefix, suffix);
    t->name = net->names[k];
    t->kind = kind;
    t->ndim = ndim;
    t->numel = 1;
    for (uint32_t d = 0; d < 4; d++) {
        t->shape[d] = d < ndim ? shape[d] : 0;
        if (d < ndim)
            t->numel *= shape[d];
    }
    if (kind == VBP_TENSOR_COUNTER)
        t->numel = 1, t->offset = 0;
    else
        t->offset = *cursor, *cursor += t->numel;
}

/* Lay out the state dict (PyTorch's names and order) and the parameter/buffer offsets. */
static void layout(vbp_net *net)
{
    const uint32_t S = net->cfg.out_channels;
    size_t pc = 0, bc = 0;
    net->ntensors = 0;
#define LAST (net->tensors[net->ntensors - 1].offset)
    for (size_t b = 0; b < net->nb; b++) {
        sep_block *B = &net->blk[b];
        const uint32_t ci = (uint32_t)B->cin, co = (uint32_t)B->cout;
        const char *nm = B->name;
        add_tensor(net, nm, "dw.weight", VBP_TENSOR_PARAM, 4, (uint32_t[]){ci, 1, 3, 3}, &pc);
        B->dw = LAST;
        add_tensor(net, nm, "pw.weight", VBP_TENSOR_PARAM, 4, (uint32_t[]){co, ci, 1, 1}, &pc);
        B->pw = LAST;
        B->pwb = SIZE_MAX;
        if (net->arch->pw_bias) {
            add_tensor(net, nm, "pw.bias", VBP_TENSOR_PARAM, 1, &co, &pc);
            B->pwb = LAST;
        }
        add_tensor(net, nm, "bn.weight", VBP_TENSOR_PARAM, 1, &co, &pc);
        B->gamma = LAST;
        add_tensor(net, nm, "bn.bias", VBP_TENSOR_PARAM, 1, &co, &pc);
        B->beta = LAST;
        add_tensor(net, nm, "bn.running_mean", VBP_TENSOR_BUFFER, 1, &co, &bc);
        B->rmean = LAST;
        add_tensor(net, nm, "bn.running_var", VBP_TENSOR_BUFFER, 1, &co, &bc);
        B->rvar = LAST;
        add_tensor(net, nm, "bn.num_batches_tracked", VBP_TENSOR_COUNTER, 0, NULL, &bc);
    }
    const uint32_t hc = (uint32_t)net->blk[net->nb - 1].cout;
    add_tensor(net, "head", "weight", VBP_TENSOR_PARAM, 4, (uint32_t[]){S, hc, 1, 1}, &pc);
    net->head_w = LAST;
    add_tensor(net, "head", "bias", VBP_TENSOR_PARAM, 1, &S, &pc);
    net->head_b = LAST;
    if (net->arch->motion) { /* two scalars, shape [] */
        add_tensor(net, "motion", "a", VBP_TENSOR_PARAM, 0, NULL, &pc);
        net->mot_a = LAST;
        add_tensor(net, "motion", "b", VBP_TENSOR_PARAM, 0, NULL, &pc);
        net->mot_b = LAST;
    }
#undef LAST
    net->nparams = pc;
    net->nbuffers = bc;
}

/* splitmix64: the private PRNG of the initialisation. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Conv weights uniform in [-limit, limit) in tensor order, limit = the description's
 * init_uniform or Glorot's sqrt(6/(fan_in+fan_out)) (fans as Keras and PyTorch compute them);
 * BN gamma 1 beta 0, running mean 0 var 1, biases 0, motion.a 0.1 and motion.b 0 (Keras). */
static void init_state(vbp_net *net, uint64_t seed)
{
    uint64_t s = seed;
    memset(net->params, 0, net->nparams * sizeof(float));
    for (size_t i = 0; i < net->ntensors; i++) {
        const vbp_net_tensor *t = &net->tensors[i];
        if (t->kind == VBP_TENSOR_BUFFER) {
            const int is_var = strstr(t->name, "running_var") != NULL;
            for (size_t j = 0; j < t->numel; j++)
                net->buffers[t->offset + j] = is_var ? 1.0f : 0.0f;
        } else if (t->kind == VBP_TENSOR_PARAM && t->ndim == 4) {
            const double rf = (double)t->shape[2] * t->shape[3];
            const double fan_in = t->shape[1] * rf, fan_out = t->shape[0] * rf;
            const double limit = net->arch->init_uniform > 0 ? net->arch->init_uniform
                                                             : sqrt(6.0 / (fan_in + fan_out));
            for (size_t j = 0; j < t->numel; j++) {
                const double u = (double)(next_u64(&s) >> 11) * 0x1.0p-53;
                net->params[t->offset + j] = (float)((2 * u - 1) * limit);
            }
        } else if (t->kind == VBP_TENSOR_PARAM && strstr(t->name, "bn.weight")) {
            for (size_t j = 0; j < t->numel; j++)
                net->params[t->offset + j] = 1.0f;
        }
    }
    if (net->arch->motion)
        net->params[net->mot_a] = 0.1f;
}

/* Next 64-byte aligned block of the arena at base (NULL while measuring: returns NULL). */
static void *bump(char *base, size_t *off, size_t bytes)
{
    void *p = base ? base + *off : NULL;
    *off += (bytes + 63) & ~(size_t)63;
    return p;
}

/* Widest block output: the per-channel arrays of the BatchNorm phases. */
static size_t max_width(const vbp_net *net)
{
    size_t m = 0;
    for (size_t b = 0; b < net->nb; b++)
        m = net->blk[b].cout > m ? net->blk[b].cout : m;
    return m;
}

/* Carve the arena; with base NULL only measure.  Returns its size in bytes. */
static size_t carve(vbp_net *net, char *base)
{
    size_t c = 0;
    const size_t N = net->cfg.max_batch, S = net->cfg.out_channels, P0 = plane(net, 0);
    const size_t hc = net->blk[net->nb - 1].cout;
    size_t gmax = 0;
    net->x = bump(base, &c, N * net->cfg.in_channels * P0 * sizeof(float));
    for (size_t b = 0; b < net->nb; b++) {
        sep_block *B = &net->blk[b];
        const size_t P = plane(net, B->level), cmax = B->cin > B->cout ? B->cin : B->cout;
        B->z = bump(base, &c, N * B->cout * P * sizeof(float));
        B->y = bump(base, &c, N * B->cout * P * sizeof(float));
        B->mean = bump(base, &c, B->cout * sizeof(float));
        B->invstd = bump(base, &c, B->cout * sizeof(float));
        B->pw_part = bump(base, &c, VBP_PW_UNITS(N, P) * (B->cout * B->cin + B->cout) * 4);
        B->dw_part = bump(base, &c, N * B->cin * 9 * sizeof(double));
        gmax = cmax * P > gmax ? cmax * P : gmax;
    }
    for (size_t b = 0; b < net->nb; b++) {
        sep_block *B = &net->blk[b];
        const size_t P = plane(net, B->level);
        B->pool = B->pooled ? bump(base, &c, N * B->cout * P / 4 * sizeof(float)) : NULL;
        B->dy = B->pooled || B->skipped ? bump(base, &c, N * B->cout * P * sizeof(float)) : NULL;
    }
    net->probs = bump(base, &c, N * S * P0 * sizeof(float));
    net->dlogits = bump(base, &c, N * S * P0 * sizeof(float));
    net->gs = gmax;
    net->gA = bump(base, &c, N * gmax * sizeof(float));
    net->gB = bump(base, &c, N * gmax * sizeof(float));
    net->head_part = bump(base, &c, VBP_PW_UNITS(N, P0) * (S * hc + S) * sizeof(float));
    for (int i = 0; i < 2; i++)
        net->bnpart[i] = bump(base, &c, 2 * N * max_width(net) * sizeof(double));
    net->dpart = bump(base, &c, ((N * S * P0 + VBP_LOSS_CHUNK - 1) / VBP_LOSS_CHUNK) * 8);
    if (net->arch->motion) {
        net->hz = bump(base, &c, N * S * P0 * sizeof(float));
        net->att = bump(base, &c, N * S * P0 * sizeof(float));
        net->dabs = bump(base, &c, N * S * P0 * sizeof(float));
        net->mpart = bump(base, &c, 2 * N * S * sizeof(double));
    }
    size_t ss = 0, bs = 0;
    for (size_t b = 0; b < net->nb; b++) {
        const sep_block *B = &net->blk[b];
        const size_t h = net->cfg.height >> B->level, w = net->cfg.width >> B->level;
        const size_t need = VBP_SEP_SCRATCH(B->cin, h, w, sizeof(float));
        const size_t bneed = VBP_SEP_BWD_SCRATCH(B->cin, w);
        ss = need > ss ? need : ss;
        bs = bneed > bs ? bneed : bs;
    }
    net->sep_ss = (ss + 15) & ~(size_t)15; /* whole cache lines per thread */
    net->bwd_ss = (bs + 15) & ~(size_t)15;
    net->bwd_scratch = bump(base, &c, (size_t)net->nt * net->bwd_ss * sizeof(float));
    /* Only the backward pass uses gA: the forward borrows it when it is large enough (so
     * inference touches no memory that training does not). */
    const size_t sep = (size_t)net->nt * net->sep_ss;
    net->sep_scratch = sep <= N * gmax ? net->gA : bump(base, &c, sep * sizeof(float));
    return c;
}

int vbp_net_create(const vbp_net_config *cfg, uint64_t seed, vbp_net **out, vbp_error *err)
{
    *out = NULL;
    if (!cfg || cfg->in_channels == 0 || cfg->out_channels == 0 || cfg->max_batch == 0 ||
        cfg->height == 0 || cfg->width == 0 || cfg->in_channels > 4096 ||
        cfg->out_channels > 4096 || cfg->threads > 1024)
        return vbp_fail(err, VBP_E_ARG,
                        "network config: channels, batch, height and width must be positive");
    const vbp_arch *arch = vbp_arch_find(cfg->model);
    if (!arch)
        return vbp_fail(err, VBP_E_ARG, "network config: unknown model '%s' (models: %s, %s)",
                        cfg->model, vbp_arch_at(0)->name, vbp_arch_at(1)->name);
    if (arch->motion && (cfg->out_channels < (arch->min_frames ? arch->min_frames : 1) ||
                         (cfg->in_channels != cfg->out_channels &&
                          cfg->in_channels != 3 * cfg->out_channels)))
        return vbp_fail(err, VBP_E_ARG,
                        "network config: %s needs at least %u frames of 1 or 3 channels (%u "
                        "inputs, %u outputs)", arch->name, arch->min_frames, cfg->in_channels,
                        cfg->out_channels);
    /* The widest tensors hold a few times the widest block per pixel: refuse sizes whose arena
     * cannot exist. */
    if ((double)cfg->max_batch * (cfg->in_channels + 64.0 * VBP_ARCH_MAX_WIDTH) * cfg->height *
            cfg->width * 4 > (double)(SIZE_MAX / 4))
        return vbp_fail(err, VBP_E_ARG, "network config: %u x %ux%u is too large",
                        cfg->max_batch, cfg->height, cfg->width);
    vbp_net *net = calloc(1, sizeof *net);
    if (!net)
        return vbp_fail(err, VBP_E_NOMEM, "network: out of memory");
    net->cfg = *cfg;
    net->cfg.model = arch->name;
    net->arch = arch;
    size_t levels = 0;
    const char *why = build(net, &levels);
    if (why) {
        free(net);
        return vbp_fail(err, VBP_E_ARG, "network: the description of %s is invalid: %s",
                        arch->name, why);
    }
    if (cfg->height % (1u << levels) || cfg->width % (1u << levels)) {
        free(net);
        return vbp_fail(err, VBP_E_ARG,
                        "network config: %s needs a height and width that are multiples of %u "
                        "(got %ux%u)", arch->name, 1u << levels, cfg->width, cfg->height);
    }
#ifdef _OPENMP
    net->nt = cfg->threads ? (int)cfg->threads : omp_get_max_threads();
#else
    net->nt = 1;
#endif
    layout(net);
    const size_t arena = carve(net, NULL);
    const size_t state = (4 * net->nparams + net->nbuffers) * sizeof(float);
    net->state_mem = calloc(1, state);
    net->arena_mem = aligned_alloc(64, (arena + 63) & ~(size_t)63);
    if (!net->state_mem || !net->arena_mem) {
        vbp_net_free(net);
        return vbp_fail(err, VBP_E_NOMEM, "network: cannot allocate %zu MiB of activations",
                        arena >> 20);
    }
    carve(net, net->arena_mem);
    net->mem_bytes = arena + state;
    net->params = net->state_mem;
    net->grads = net->params + net->nparams;
    net->adam_m = net->grads + net->nparams;
    net->adam_v = net->adam_m + net->nparams;
    net->buffers = net->adam_v + net->nparams;
    init_state(net, seed);
    *out = net;
    return VBP_OK;
}

void vbp_net_free(vbp_net *net)
{
    if (!net)
        return;
    free(net->state_mem);
    free(net->arena_mem);
    free(net);
}

/*
 * Threads split the batch: each runs every layer on its own contiguous samples
 * (layers called with one thread) and they meet only where BatchNorm needs the
 * statistics of the whole batch.  Each reduction is summed per plane or chunk
 * into shared arrays and added in sample order, so results do not depend on
 * how many threads there are.  Under a shared CPU this is far cheaper than one
 * barrier per layer.
 */
typedef struct span {
    size_t s0, m; /* samples [s0, s0+m) of this thread */
    size_t t;     /* thread number */
    int lead;     /* thread 0: the one that writes shared results */
} span;

static span my_span(size_t n)
{
#ifdef _OPENMP
    const size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
#else
    const size_t t = 0, T = 1;
#endif
    const span sp = {n * t / T, n * (t + 1) / T - n * t / T, t, t == 0};
    return sp;
}

#define BARRIER _Pragma("omp barrier")

/*
 * Training: the fused pass (depthwise and pointwise in one pass, no depthwise tensor) writes
 * the BatchNorm input z (the pointwise output plus its bias, after the ReLU when it comes
 * first) and the BatchNorm statistics of its bands; then BatchNorm with the batch statistics
 * (one barrier), the ReLU when it comes after, and the pooling.
 * Eval: BatchNorm with the running statistics is an affine map per channel, folded into the
 * pointwise conv's epilogue (before the ReLU: scale and bias; after it: the final affine map),
 * which writes y directly; by default in one pass without the depthwise tensor
 * (vbp_sep_eval; nearest upsampling there as VBP_UP_POLY: within rounding of the
 * layer-by-layer path, which the training forward's bits follow).  The block input is concat(up2x(lo), in) with lo [N,cl,P/4], in
 * [N,cin-cl,P] (cl = 0: in alone).
 * Fused eval of the last block also runs the head conv: it writes the logits to probs, not y.
 * pool != NULL: also the 2x2 max pooling of y into pool [N,cout,P/4], in the same pass as the
 * BatchNorm apply in training and in the fused eval pass.
 */
static void block_forward(vbp_net *net, sep_block *B, const float *lo, size_t cl,
                          const float *in, float *pool, span sp, size_t n, int training)
{
    const vbp_arch *a = net->arch;
    const size_t h = net->cfg.height >> B->level, w = net->cfg.width >> B->level, P = h * w;
    const size_t si = B->cin * P, so = B->cout * P, c = B->cout;
    float *p = net->params, *buf = net->buffers;
    float mean[VBP_ARCH_MAX_WIDTH], invstd[VBP_ARCH_MAX_WIDTH];
    float *z = B->z + sp.s0 * so, *y = B->y + sp.s0 * so;
    float *scratch = net->sep_scratch + sp.t * net->sep_ss;
    const float *pb = B->pwb != SIZE_MAX ? p + B->pwb : NULL;
    if (!training) {
        float scale[VBP_ARCH_MAX_WIDTH], shift[VBP_ARCH_MAX_WIDTH];
        for (size_t k = 0; k < c; k++) {
            mean[k] = buf[B->rmean + k];
            invstd[k] = (float)(1.0 / sqrt((double)buf[B->rvar + k] + a->bn_eps));
            scale[k] = p[B->gamma + k] * invstd[k];
            shift[k] = pb && a->order == VBP_BN_THEN_RELU
                           ? p[B->beta + k] + (pb[k] - mean[k]) * scale[k]
                           : p[B->beta + k] - mean[k] * scale[k];
        }
        /* The epilogue: BatchNorm before the ReLU (scale, bias) or after it (final map). */
        const int first = a->order == VBP_BN_THEN_RELU;
        const float *sc = first ? scale : NULL, *bi = first ? shift : pb;
        const float *ps = first ? NULL : scale, *pt = first ? NULL : shift;
        if (net->unfused) { /* the depthwise output in gA, unused in the forward */
            float *dwo = net->gA + sp.s0 * si;
            vbp_dwconv_forward_f(dwo, in + sp.s0 * si, p + B->dw, sp.m, B->cin, h, w, 1);
            vbp_pwconv_forward_f(y, dwo, p + B->pw, bi, sc, 1, ps, pt, sp.m, B->cin, c, P, 1);
        } else {
            const int head = B == &net->blk[net->nb - 1];
            const size_t S = net->cfg.out_channels;
            vbp_sep_eval_f(head ? net->probs + sp.s0 * S * P : y,
                           cl ? lo + sp.s0 * cl * P / 4 : NULL, in + sp.s0 * (B->cin - cl) * P,
                           p + B->dw, p + B->pw, bi, sc, 1, ps, pt,
                           head ? p + net->head_w : NULL, p + net->head_b, S, sp.m, cl, B->cin,
                           c, h, w, a->up == VBP_UP_NEAREST ? VBP_UP_POLY : a->up,
                           pool ? pool + sp.s0 * c * P / 4 : NULL, NULL, scratch);
        }
    } else {
        /* Consecutive blocks alternate bnpart: a fast thread's next block keeps a slow one's
         * sums intact. */
        double *bn = net->bnpart[(B - net->blk) & 1];
        vbp_sep_eval_f(z, cl ? lo + sp.s0 * cl * P / 4 : NULL, in + sp.s0 * (B->cin - cl) * P,
                       p + B->dw, p + B->pw, pb, NULL, a->order == VBP_RELU_THEN_BN, NULL, NULL,
                       NULL, NULL, 0, sp.m, cl, B->cin, c, h, w, a->up, NULL, bn + 2 * sp.s0 * c,
                       scratch);
        BARRIER
        vbp_bn_reduce_f(mean, invstd, sp.lead ? buf + B->rmean : NULL, buf + B->rvar, bn, n, c, P,
                        a->bn_momentum, a->bn_eps);
        if (pool)
            vbp_bnrelu_apply_pool_f(y, pool + sp.s0 * c * P / 4, z, p + B->gamma, p + B->beta,
                                    mean, invstd, sp.m, c, h, w, a->order, 1);
        else
            vbp_bnrelu_apply_f(y, z, p + B->gamma, p + B->beta, mean, invstd, sp.m, c, P,
                               a->order, 1);
    }
    if (!training && pool && net->unfused)
        vbp_maxpool_forward_f(pool + sp.s0 * c * P / 4, y, sp.m, c, h, w, 1);
    if (sp.lead) {
        memcpy(B->mean, mean, c * sizeof *mean);
        memcpy(B->invstd, invstd, c * sizeof *invstd);
    }
}

int vbp_net_forward(vbp_net *net, const float *x, size_t n, int training, vbp_error *err)
{
    if (n == 0 || n > net->cfg.max_batch)
        return vbp_fail(err, VBP_E_ARG, "network: batch %zu is outside 1..%u", n,
                        net->cfg.max_batch);
    const size_t H = net->cfg.height, W = net->cfg.width, S = net->cfg.out_channels;
    const size_t C = net->cfg.in_channels, sx = C * H * W, P0 = H * W;
    const vbp_arch *a = net->arch;
#pragma omp parallel num_threads(net->nt)
    {
        const span sp = my_span(n);
        const float *xin = x; /* the fused eval forward reads the input in place */
        if (training || net->unfused) {
            memcpy(net->x + sp.s0 * sx, x + sp.s0 * sx, sp.m * sx * sizeof *x);
            xin = net->x; /* the backward pass reads it */
        }
        for (size_t b = 0; b < net->nb; b++) {
            sep_block *B = &net->blk[b];
            const sep_block *prev = b ? &net->blk[b - 1] : NULL;
            float *pool = B->pooled ? B->pool : NULL;
            if (B->input != VBP_IN_UP) {
                const float *in = !b ? xin : B->input == VBP_IN_POOL ? prev->pool : prev->y;
                block_forward(net, B, NULL, 0, in, pool, sp, n, training);
                continue;
            }
            const sep_block *skip = &net->blk[B->skip];
            const size_t P = plane(net, B->level), ns = B->cin * P;
            if (training || !net->unfused) { /* the concat is read in place */
                block_forward(net, B, prev->y, prev->cout, skip->y, pool, sp, n, training);
                continue;
            }
            /* Layer by layer: the concat in gB (gA holds the depthwise output) */
            vbp_up2x_forward_f(net->gB + sp.s0 * ns, ns, prev->y + sp.s0 * prev->cout * P / 4,
                               sp.m, prev->cout, H >> prev->level, W >> prev->level, a->up, 1);
            vbp_channels_scatter_f(net->gB + sp.s0 * ns + prev->cout * P, ns,
                                   skip->y + sp.s0 * skip->cout * P, sp.m, skip->cout * P, 1);
            block_forward(net, B, NULL, 0, net->gB, pool, sp, n, 0);
        }
        const sep_block *L = &net->blk[net->nb - 1];
        const float *p = net->params;
        float *probs = net->probs + sp.s0 * S * P0;
        /* Training with the motion prompt keeps the head's logits for the backward pass. */
        float *logits = a->motion && training ? net->hz + sp.s0 * S * P0 : probs;
        if (training || net->unfused) /* else the last block wrote the logits */
            vbp_pwconv_forward_f(logits, L->y + sp.s0 * L->cout * P0, p + net->head_w,
                                 p + net->head_b, NULL, 0, NULL, NULL, sp.m, L->cout, S, P0, 1);
        if (a->motion)
            vbp_motion_forward_f(probs, training ? net->att + sp.s0 * S * P0 : NULL,
                                 training ? net->dabs + sp.s0 * S * P0 : NULL, logits,
                                 xin + sp.s0 * sx, p[net->mot_a], p[net->mot_b], sp.m, S, C / S,
                                 P0, 1);
        vbp_sigmoid_forward_f(probs, probs, sp.m * S * P0, 1);
    }
    if (training)
        net->batches++;
    net->n = n;
    net->state = training ? 2 : 1;
    return VBP_OK;
}

void vbp_net_set_fused(vbp_net *net, int on)
{
    net->unfused = !on;
}

const float *vbp_net_output(const vbp_net *net)
{
    return net->probs;
}

int vbp_net_loss(vbp_net *net, const float *y, float *loss, vbp_error *err)
{
    if (net->state == 0)
        return vbp_fail(err, VBP_E_ARG, "network: loss asked before any forward pass");
    const size_t count = net->n * net->cfg.out_channels * plane(net, 0);
    const double l = vbp_wbce_loss_f(net->dlogits, net->probs, y, count, LOSS_EPS, net->dpart,
                                     net->nt);
    if (net->state >= 2)
        net->state = 3;
    *loss = (float)l;
    if (!isfinite(l))
        return vbp_fail(err, VBP_E_NUMERIC, "network: loss is not finite");
    return VBP_OK;
}

/*
 * One block backward for this thread's samples: BatchNorm and ReLU in place on dy (one
 * barrier for the batch sums; the alternating bnpart keeps a slow thread's sums intact), then
 * pointwise and depthwise in one pass (vbp_sep_backward_part) over the block input
 * concat(up2x(lo), x) (cl = 0: x alone): the input gradient into dlo (lo's, through the
 * upsampling) and dx (NULL: weights only; may be dy's buffer), dx_ns floats per sample.
 * Weight gradients go to the partial-sum arrays.
 * *_ns are sample strides: the ping-pong buffers hold tensors of different widths, so each
 * sample keeps a fixed slot (net->gs floats) and no thread ever writes another's samples.
 */
static void block_backward(vbp_net *net, sep_block *B, const float *lo, size_t cl,
                           const float *x, float *dy, size_t dy_ns, float *dlo, float *dx,
                           size_t dx_ns, span sp, size_t n, int *alt)
{
    const size_t h = net->cfg.height >> B->level, w = net->cfg.width >> B->level, P = h * w;
    const size_t so = B->cout * P, c = B->cout, gs = net->gs;
    const size_t K = B->cout * B->cin + B->cout, nch = VBP_PW_UNITS(1, P);
    const int order = net->arch->order;
    float *p = net->params, *g = net->grads;
    double *part = net->bnpart[*alt];
    *alt ^= 1;
    for (size_t s = sp.s0; s < sp.s0 + sp.m; s++)
        vbp_bnrelu_grad_sums_f(part + 2 * s * c, dy + s * dy_ns, B->z + s * so, p + B->gamma,
                               p + B->beta, B->mean, B->invstd, 1, c, P, order, 1);
    BARRIER
    if (sp.lead) /* dgamma, dbeta from the batch sums, once */
        vbp_bnrelu_grad_apply_f(NULL, g + B->gamma, g + B->beta, NULL, NULL, NULL, NULL, NULL,
                                NULL, part, n, 0, c, P, order, 1);
    for (size_t s = sp.s0; s < sp.s0 + sp.m; s++) {
        float *d = dy + s * dy_ns;
        vbp_bnrelu_grad_apply_f(d, NULL, NULL, d, B->z + s * so, p + B->gamma, p + B->beta,
                                B->mean, B->invstd, part, n, 1, c, P, order, 1);
        vbp_sep_backward_part_f(cl ? dlo + s * gs : NULL, dx ? dx + s * dx_ns : NULL,
                                B->pw_part + s * nch * K, B->dw_part + s * B->cin * 9, d,
                                cl ? lo + s * cl * P / 4 : NULL, x + s * (B->cin - cl) * P,
                                p + B->dw, p + B->pw, 1, cl, B->cin, c, h, w, net->arch->up,
                                net->bwd_scratch + sp.t * net->bwd_ss);
    }
}

/* E's output gradient from this thread's samples in g (gs floats apart): added to E->dy when
 * E has its own buffer (it gathers a skip's gradient too); else g becomes the current buffer. */
static void grad_to(vbp_net *net, const sep_block *E, float *g, float **cur, float **oth, span sp)
{
    if (!E->dy) {
        if (g != *cur)
            *oth = *cur, *cur = g;
        return;
    }
    const size_t len = E->cout * plane(net, E->level);
    for (size_t s = sp.s0; s < sp.s0 + sp.m; s++) {
        float *restrict d = E->dy + s * len;
        const float *restrict src = g + s * net->gs;
        for (size_t i = 0; i < len; i++)
            d[i] += src[i];
    }
}

/*
 * Blocks in reverse order.  A block's output gradient is in the current ping-pong buffer, or
 * in its own buffer (dy) when a skip or a pooling adds a second contribution: the skip
 * consumer, which comes later in the chain and so earlier here, writes it first.
 */
int vbp_net_backward(vbp_net *net, vbp_error *err)
{
    if (net->state != 3)
        return vbp_fail(err, VBP_E_ARG,
                        "network: backward needs a training forward followed by the loss");
    const size_t n = net->n, H = net->cfg.height, W = net->cfg.width, S = net->cfg.out_channels;
    const size_t P0 = H * W, gs = net->gs;
    const sep_block *L = &net->blk[net->nb - 1];
    float *p = net->params, *g = net->grads;
#pragma omp parallel num_threads(net->nt)
    {
        const span sp = my_span(n);
        float *cur = net->gA, *oth = net->gB;
        int alt = 0;
        if (net->arch->motion) /* d loss / d head logits, and the scalars' sums */
            vbp_motion_backward_f(net->dlogits + sp.s0 * S * P0, net->mpart + 2 * sp.s0 * S,
                                  net->dlogits + sp.s0 * S * P0, net->hz + sp.s0 * S * P0,
                                  net->att + sp.s0 * S * P0, net->dabs + sp.s0 * S * P0,
                                  p[net->mot_a], p[net->mot_b], sp.m, S, P0, 1);
        for (size_t s = sp.s0; s < sp.s0 + sp.m; s++)
            vbp_pwconv_backward_part_f(cur + s * gs,
                                       net->head_part + s * VBP_PW_UNITS(1, P0) * (S * L->cout + S),
                                       net->dlogits + s * S * P0, L->y + s * L->cout * P0,
                                       p + net->head_w, 1, L->cout, S, P0, 1);
        for (size_t b = net->nb; b-- > 0;) {
            sep_block *B = &net->blk[b];
            const size_t P = plane(net, B->level);
            float *dy = B->dy ? B->dy : cur;
            const size_t dy_ns = B->dy ? B->cout * P : gs;
            if (B->input == VBP_IN_UP) {
                /* The skip's gradient straight into its buffer, the lower block's through the
                 * upsampling into oth. */
                const sep_block *prev = &net->blk[b - 1], *skip = &net->blk[B->skip];
                block_backward(net, B, prev->y, prev->cout, skip->y, dy, dy_ns, oth, skip->dy,
                               skip->cout * P, sp, n, &alt);
                grad_to(net, prev, oth, &cur, &oth, sp);
                continue;
            }
            /* The input gradient in place when dy is in the current buffer. */
            float *din = b == 0 ? NULL : dy == cur ? cur : oth;
            const float *in = b == 0 ? net->x
                              : B->input == VBP_IN_POOL ? net->blk[b - 1].pool
                                                        : net->blk[b - 1].y;
            block_backward(net, B, NULL, 0, in, dy, dy_ns, NULL, din, gs, sp, n, &alt);
            if (b == 0)
                break;
            sep_block *E = &net->blk[b - 1];
            if (B->input != VBP_IN_POOL) {
                grad_to(net, E, din, &cur, &oth, sp);
                continue;
            }
            const size_t PE = plane(net, E->level); /* E->dy exists: E is pooled */
            for (size_t s = sp.s0; s < sp.s0 + sp.m; s++) {
                if (!E->skipped) /* the pooling's gradient is the only one: start from zero */
                    memset(E->dy + s * E->cout * PE, 0, E->cout * PE * sizeof(float));
                vbp_maxpool_backward_f(E->dy + s * E->cout * PE, din + s * gs,
                                       E->y + s * E->cout * PE, E->pool + s * E->cout * PE / 4, 1,
                                       E->cout, H >> E->level, W >> E->level, 1);
            }
        }
    }
    /* Weight gradients: the per-unit sums of all samples, added in order. */
    vbp_pwconv_reduce_f(g + net->head_w, g + net->head_b, net->head_part, VBP_PW_UNITS(n, P0),
                        L->cout, S);
    for (size_t b = 0; b < net->nb; b++) {
        const sep_block *B = &net->blk[b];
        vbp_pwconv_reduce_f(g + B->pw, B->pwb != SIZE_MAX ? g + B->pwb : NULL, B->pw_part,
                            VBP_PW_UNITS(n, plane(net, B->level)), B->cin, B->cout);
        vbp_dwconv_reduce_f(g + B->dw, B->dw_part, n, B->cin);
    }
    if (net->arch->motion)
        vbp_motion_reduce_f(g + net->mot_a, g + net->mot_b, net->mpart, n * S, p[net->mot_a],
                            p[net->mot_b]);
    net->state = 2; /* a second backward needs a new loss */
    return VBP_OK;
}

void vbp_net_zero_grad(vbp_net *net)
{
    memset(net->grads, 0, net->nparams * sizeof(float));
}

int vbp_net_adam_step(vbp_net *net, const vbp_adam_config *cfg, float lr, vbp_error *err)
{
    if (!(lr >= 0) || !isfinite(lr))
        return vbp_fail(err, VBP_E_ARG, "adam: learning rate %g is not a finite value >= 0",
                        (double)lr);
    for (size_t i = 0; i < net->nparams; i++)
        if (!isfinite(net->grads[i]))
            return vbp_fail(err, VBP_E_NUMERIC, "adam: gradient of parameter %zu is not finite",
                            i);
    net->adam_t++;
    vbp_adam_update(cfg, lr, net->adam_t, net->nparams, net->params, net->grads, net->adam_m,
                    net->adam_v);
    return VBP_OK;
}

const vbp_net_config *vbp_net_get_config(const vbp_net *net) { return &net->cfg; }
const vbp_arch *vbp_net_arch(const vbp_net *net) { return net->arch; }
size_t vbp_net_memory_bytes(const vbp_net *net) { return net->mem_bytes; }
size_t vbp_net_param_count(const vbp_net *net) { return net->nparams; }
float *vbp_net_params(vbp_net *net) { return net->params; }
float *vbp_net_grads(vbp_net *net) { return net->grads; }
float *vbp_net_adam_m(vbp_net *net) { return net->adam_m; }
float *vbp_net_adam_v(vbp_net *net) { return net->adam_v; }
size_t vbp_net_buffer_count(const vbp_net *net) { return net->nbuffers; }
float *vbp_net_buffers(vbp_net *net) { return net->buffers; }
uint64_t vbp_net_adam_steps(const vbp_net *net) { return net->adam_t; }
void vbp_net_set_adam_steps(vbp_net *net, uint64_t t) { net->adam_t = t; }
uint64_t vbp_net_batches_tracked(const vbp_net *net) { return net->batches; }
void vbp_net_set_batches_tracked(vbp_net *net, uint64_t count) { net->batches = count; }
size_t vbp_net_tensor_count(const vbp_net *net) { return net->ntensors; }

int vbp_net_tensor_info(const vbp_net *net, size_t i, vbp_net_tensor *t)
{
    if (i >= net->ntensors)
        return VBP_E_ARG;
    *t = net->tensors[i];
    return VBP_OK;
}

unsigned vbp_net_model_count(void)
{
    return vbp_arch_count();
}

const char *vbp_net_model_name(unsigned i)
{
    const vbp_arch *a = vbp_arch_at(i);
    return a ? a->name : NULL;
}

/*
 * layers.h - forward/backward pairs of the VballNet family's layers (internal).
 *
 * Every layer exists twice, for float (suffix _f, used by the net) and double
 * (suffix _d, used by the finite-difference checks in tests/test_layers.c):
 * the bodies in layers_*.c are written once over the type `real` and compiled
 * for both through layers_tmpl.h, and that once per instruction set (isa.h);
 * the names below dispatch to the set chosen at run time (dispatch.c).
 *
 * Conventions: tensors are channels first; "P" is the plane size h*w.
 * Backward functions ADD into parameter gradients (dw, dgamma, ...) and
 * OVERWRITE the input gradient (din), except where a comment says "+=".
 * `nt` is the number of OpenMP threads.  `part` is scratch for per-chunk
 * partial sums (size given per function): reductions are summed per chunk
 * and the chunks added in a fixed order, so results never depend on nt.
 */
#ifndef VBP_LAYERS_H
#define VBP_LAYERS_H

#include <stddef.h>

/* Pixels per reduction chunk of the pointwise conv (independent of threads). */
#define VBP_PW_CHUNK 4096
/* Number of pointwise-conv chunks for n planes of P pixels. */
#define VBP_PW_UNITS(n, P) ((n) * (((P) + VBP_PW_CHUNK - 1) / VBP_PW_CHUNK))
/* Elements per loss reduction chunk. */
#define VBP_LOSS_CHUNK 8192
/* Fused eval sep block (vbp_sep_eval): pixels per band (about VBP_SEP_BAND_BYTES of depthwise
 * output of ci channels of sz bytes, in L2; at least one pointwise tile), rows of the
 * depthwise buffer (a band spans at most band / w + 2 rows), and the scratch it needs in
 * reals (that buffer with one cache line of padding per channel, rows + 2 upsampled rows of
 * one channel, a tile of co <= 64 outputs). */
#define VBP_SEP_BAND_BYTES (192 * 1024)
#define VBP_SEP_BAND_PX(ci, sz)                                                                    \
    (VBP_SEP_BAND_BYTES / ((ci) * (sz)) > VBP_PW_TILE_MAX ? VBP_SEP_BAND_BYTES / ((ci) * (sz))    \
                                                          : (size_t)VBP_PW_TILE_MAX)
#define VBP_SEP_ROWS(ci, h, w, sz)                                                                 \
    (VBP_SEP_BAND_PX(ci, sz) / (w) + 2 < (h) ? VBP_SEP_BAND_PX(ci, sz) / (w) + 2 : (size_t)(h))
#define VBP_SEP_SCRATCH(ci, h, w, sz)                                                              \
    (VBP_SEP_ROWS(ci, h, w, sz) * ((ci) + 1) * (w) + 16 * (ci) + 2 * (w) + 64 * VBP_PW_TILE_MAX)
/* Fused training backward of a sep block (vbp_sep_backward_part): rows of each of its three
 * row buffers (a chunk spans at most VBP_PW_CHUNK / w + 2 rows, plus the rows around it), and
 * the scratch it needs in reals (one cache line of padding per channel and buffer, and one
 * row for an upsampled channel's gradient). */
#define VBP_SEP_BWD_ROWS(w) (VBP_PW_CHUNK / (w) + 5)
#define VBP_SEP_BWD_SCRATCH(ci, w) (3 * (ci) * (VBP_SEP_BWD_ROWS(w) * (w) + 16) + (w))
/* Upsampling kinds (the `up` arguments) and the order of BatchNorm and ReLU in a sep block
 * (the `order` arguments). */
#define VBP_UP_BILINEAR 0
#define VBP_UP_NEAREST 1
/* Nearest, with vbp_sep_eval's depthwise rows over the upsampled channels taken from the
 * low-resolution rows (4 multiply-adds per pixel instead of 9: within rounding of NEAREST,
 * not its bits); vbp_sep_eval only. */
#define VBP_UP_POLY 2
#define VBP_BN_THEN_RELU 0
#define VBP_RELU_THEN_BN 1
/* The largest VBP_PW_TILE of the instruction sets (isa.h). */
#define VBP_PW_TILE_MAX 192

/*
 * Every layer function as X(return type, name, (parameters over real), (argument names)).
 * Expanded per type and per ISA (src/nn/dispatch.c, layers_tmpl.h).
 */
#define VBP_LAYER_FUNCS(X, real)                                                                  \
    /* out[n,c,h,w] = sum_{ky,kx} wt[c,ky,kx] * in[n,c,y+ky-1,x+kx-1], zero padding. */            \
    X(void, vbp_dwconv_forward, (real *out, const real *in, const real *wt, size_t n, size_t c,    \
        size_t h, size_t w, int nt), (out, in, wt, n, c, h, w, nt))                                \
    /* din [n,c,h,w] (may be NULL), dwt [c,3,3] +=; part: n*c*9 doubles, the per-plane sums,    \
       then added by _reduce. */                                                                  \
    X(void, vbp_dwconv_backward, (real *din, real *dwt, const real *dout, const real *in,          \
        const real *wt, size_t n, size_t c, size_t h, size_t w, double *part, int nt), (din, dwt,  \
        dout, in, wt, n, c, h, w, part, nt))                                                       \
    /* dwt [c,3,3] += the per-plane sums part[(ni*c + ci)*9 ..] over ni < n, in order. */          \
    X(void, vbp_dwconv_reduce, (real *dwt, const double *part, size_t n, size_t c), (dwt, part,    \
        n, c))                                                                                     \
    /* out[n,co,p] = act(scale[co] * sum_ci wt[co,ci] * in[n,ci,p] + bias[co]) * pscale[co] +      \
       pshift[co]; scale, bias may be NULL (1, 0); act = ReLU when relu, else identity; pscale    \
       NULL: no final affine (pshift then unused).  Eval-mode BatchNorm folds in here: into       \
       scale and bias when it precedes the ReLU, into pscale and pshift when it follows it. */    \
    X(void, vbp_pwconv_forward, (real *out, const real *in, const real *wt, const real *bias,      \
        const real *scale, int relu, const real *pscale, const real *pshift, size_t n, size_t ci,  \
        size_t co, size_t P, int nt), (out, in, wt, bias, scale, relu, pscale, pshift, n, ci, co,  \
        P, nt))                                                                                    \
    /* Eval-mode sep block in one pass: vbp_pwconv_forward's act(scale * pwconv(dwconv(concat(     \
       up2x(lo), x))) + bias) * pscale + pshift without the intermediate tensors, bit-identical   \
       to those layers in a row (lo [n,cl,h/2,w/2] upsampled as channels 0..cl-1 by up (VBP_UP_*),\
       cl 0: none; x [n,ci-cl,h,w]; out [n,co,h,w]; co <= 64); up VBP_UP_POLY: nearest, within    \
       rounding of those layers (the depthwise rows over lo from its own rows);                   \
       hw != NULL: then the head 1x1 conv hw [S,co] + hb, out [n,S,h,w]; else pool != NULL: also  \
       the 2x2 max pooling of out into pool [n,co,h/2,w/2] (h, w even); stats != NULL (hw NULL):  \
       the BatchNorm plane sums of out as vbp_bn_stats ([n*co*2] doubles).  One thread; scratch:  \
       VBP_SEP_SCRATCH(ci, h, w, sizeof(real)) reals. */                                          \
    X(void, vbp_sep_eval, (real *out, const real *lo, const real *x, const real *dwt,             \
        const real *pwt, const real *bias, const real *scale, int relu, const real *pscale,       \
        const real *pshift, const real *hw, const real *hb, size_t S, size_t n, size_t cl,        \
        size_t ci, size_t co, size_t h, size_t w, int up, real *pool, double *stats,              \
        real *scratch), (out, lo, x, dwt, pwt, bias, scale, relu, pscale, pshift, hw, hb, S, n,   \
        cl, ci, co, h, w, up, pool, stats, scratch))                                              \
    /* Training backward of a sep block (dwconv dwt then pwconv pwt; input concat(up2x(lo), x)   \
       as in vbp_sep_eval, output gradient dout [n,co,h,w]) without the intermediate tensors:     \
       pw_part as vbp_pwconv_backward_part, dw_part [n*ci*9] doubles for vbp_dwconv_reduce, the   \
       input gradient (dx NULL: none) into dlo [n,cl,h/2,w/2] (the gradient of lo, through the   \
       upsampling) and dx [n,ci-cl,h,w]; bit for bit those layers in a row.  With n = 1, dx may   \
       be dout's buffer.  One thread; scratch: VBP_SEP_BWD_SCRATCH(ci, w) reals. */              \
    X(void, vbp_sep_backward_part, (real *dlo, real *dx, real *pw_part, double *dw_part,          \
        const real *dout, const real *lo, const real *x, const real *dwt, const real *pwt,        \
        size_t n, size_t cl, size_t ci, size_t co, size_t h, size_t w, int up, real *scratch),    \
        (dlo, dx, pw_part, dw_part, dout, lo, x, dwt, pwt, n, cl, ci, co, h, w, up, scratch))     \
    /* din [n,ci,P] (may be NULL), dwt [co,ci] +=, dbias [co] += (may be NULL);                    \
       part: VBP_PW_UNITS(n,P) * (co*ci + co).  = _part then _reduce. */                           \
    X(void, vbp_pwconv_backward, (real *din, real *dwt, real *dbias, const real *dout,             \
        const real *in, const real *wt, size_t n, size_t ci, size_t co, size_t P, real *part,      \
        int nt), (din, dwt, dbias, dout, in, wt, n, ci, co, P, part, nt))                          \
    /* Halves of vbp_pwconv_backward: per-unit sums (unit u = sample u/nch, chunk u%nch) of the    \
       weight and bias gradients at part[u*(co*ci+co)], and din; then the ordered sum of units. */ \
    X(void, vbp_pwconv_backward_part, (real *din, real *part, const real *dout, const real *in,    \
        const real *wt, size_t n, size_t ci, size_t co, size_t P, int nt), (din, part, dout, in,   \
        wt, n, ci, co, P, nt))                                                                     \
    X(void, vbp_pwconv_reduce, (real *dwt, real *dbias, const real *part, size_t units,            \
        size_t ci, size_t co), (dwt, dbias, part, units, ci, co))                                  \
    /* Training-mode BatchNorm and ReLU in the order `order` (VBP_BN_THEN_RELU: y = max(0,         \
       gamma*(z-mean)*invstd + beta); VBP_RELU_THEN_BN: z is already the ReLU's output (the       \
       pointwise epilogue applied it) and y = gamma*(z-mean)*invstd + beta) with the batch         \
       statistics (biased var) saved in mean/invstd [c]; running stats updated with momentum and   \
       the unbiased var.  (Eval mode is folded into vbp_pwconv_forward.)  part: 2*n*c doubles. */  \
    X(void, vbp_bnrelu_forward, (real *y, const real *z, const real *gamma, const real *beta,      \
        real *run_mean, real *run_var, real *mean, real *invstd, size_t n, size_t c, size_t P,     \
        double momentum, double eps, int order, double *part, int nt), (y, z, gamma, beta,         \
        run_mean, run_var, mean, invstd, n, c, P, momentum, eps, order, part, nt))                 \
    /* dz [n,c,P] from dy (dz may equal dy: in place); dgamma, dbeta [c] +=.  Uses the             \
       training-mode batch statistics saved by forward; the ReLU mask is recomputed from z (with  \
       the forward's arithmetic for VBP_BN_THEN_RELU; z > 0 for VBP_RELU_THEN_BN, applied to the  \
       BatchNorm's input gradient: dz is then the gradient before the ReLU).  y is not read.      \
       part: 2*n*c doubles. */                                                                    \
    X(void, vbp_bnrelu_backward, (real *dz, real *dgamma, real *dbeta, const real *dy,             \
        const real *z, const real *gamma, const real *beta, const real *mean, const real *invstd,  \
        size_t n, size_t c, size_t P, int order, double *part, int nt), (dz, dgamma, dbeta, dy, z, \
        gamma, beta, mean, invstd, n, c, P, order, part, nt))                                      \
    /* Phases of vbp_bnrelu_forward, for callers that split the batch among threads:               \
       part[2pl], [2pl+1] = sum and sum of squared deviations from its mean of plane pl < n*c     \
       (vbp_sep_eval makes them too); reduce: the batch mean and invstd from the plane sums of    \
       all n samples in order (and the running stats when run_mean != NULL); apply normalises n  \
       samples. */                                                                                \
    X(void, vbp_bn_stats, (double *part, const real *z, size_t n, size_t c, size_t P, int nt),    \
        (part, z, n, c, P, nt))                                                                   \
    X(void, vbp_bn_reduce, (real *mean, real *invstd, real *run_mean, real *run_var,             \
        const double *part, size_t n, size_t c, size_t P, double momentum, double eps), (mean,    \
        invstd, run_mean, run_var, part, n, c, P, momentum, eps))                                 \
    X(void, vbp_bnrelu_apply, (real *y, const real *z, const real *gamma, const real *beta,        \
        const real *mean, const real *invstd, size_t n, size_t c, size_t P, int order, int nt),    \
        (y, z, gamma, beta, mean, invstd, n, c, P, order, nt))                                     \
    /* vbp_bnrelu_apply, and pool [n,c,h/2,w/2] = vbp_maxpool_forward of y in the same pass    \
       (h, w even). */                                                                            \
    X(void, vbp_bnrelu_apply_pool, (real *y, real *pool, const real *z, const real *gamma,         \
        const real *beta, const real *mean, const real *invstd, size_t n, size_t c, size_t h,      \
        size_t w, int order, int nt), (y, pool, z, gamma, beta, mean, invstd, n, c, h, w, order,   \
        nt))                                                                                       \
    /* Phases of vbp_bnrelu_backward: per-plane sums of g and g*xhat into part[2pl], [2pl+1];      \
       then dz for n samples from the sums of all N samples in part (dgamma, dbeta += when         \
       dgamma != NULL: one caller only). */                                                        \
    X(void, vbp_bnrelu_grad_sums, (double *part, const real *dy, const real *z,                    \
        const real *gamma, const real *beta, const real *mean, const real *invstd, size_t n,       \
        size_t c, size_t P, int order, int nt), (part, dy, z, gamma, beta, mean, invstd, n, c, P,  \
        order, nt))                                                                                \
    X(void, vbp_bnrelu_grad_apply, (real *dz, real *dgamma, real *dbeta, const real *dy,           \
        const real *z, const real *gamma, const real *beta, const real *mean, const real *invstd,  \
        const double *part, size_t N, size_t n, size_t c, size_t P, int order, int nt), (dz,       \
        dgamma, dbeta, dy, z, gamma, beta, mean, invstd, part, N, n, c, P, order, nt))             \
    /* out[n,c,h/2,w/2] = max over each 2x2 window (h, w even). */                                 \
    X(void, vbp_maxpool_forward, (real *out, const real *in, size_t n, size_t c, size_t h,         \
        size_t w, int nt), (out, in, n, c, h, w, nt))                                              \
    /* din [n,c,h,w] += dout at the first maximum of each window (row-major order). */             \
    X(void, vbp_maxpool_backward, (real *din, const real *dout, const real *in, const real *out,   \
        size_t n, size_t c, size_t h, size_t w, int nt), (din, dout, in, out, n, c, h, w, nt))     \
    /* 2x upsampling, up = VBP_UP_BILINEAR (align_corners=False) or VBP_UP_NEAREST: in [n,c,h,w]   \
       -> out [n,c,2h,2w], the output samples out_ns floats apart (>= c*4*h*w: lets it write into \
       a concat buffer). */                                                                       \
    X(void, vbp_up2x_forward, (real *out, size_t out_ns, const real *in, size_t n, size_t c,       \
        size_t h, size_t w, int up, int nt), (out, out_ns, in, n, c, h, w, up, nt))                \
    /* din [n,c,h,w] from dout [n,c,2h,2w] (samples dout_ns apart). */                             \
    X(void, vbp_up2x_backward, (real *din, const real *dout, size_t dout_ns, size_t n, size_t c,   \
        size_t h, size_t w, int up, int nt), (din, dout, dout_ns, n, c, h, w, up, nt))             \
    /* Concatenation helper: dst[s, 0:c, :] = src[s] for n samples of c*P floats, dst samples      \
       dst_ns apart.  add=1: dst += src instead.  Backward of a concat is the same copy with       \
       the roles swapped (vbp_channels_gather). */                                                 \
    X(void, vbp_channels_scatter, (real *dst, size_t dst_ns, const real *src, size_t n,            \
        size_t cP, int nt), (dst, dst_ns, src, n, cP, nt))                                         \
    X(void, vbp_channels_gather, (real *dst, const real *src, size_t src_ns, size_t n, size_t cP,  \
        int add, int nt), (dst, src, src_ns, n, cP, add, nt))                                      \
    /* Motion prompt of VballNetV1 (docs/network.md): per sample, frame t < S of x [n,S*cf,P]       \
       (cf = 1 gray, 3 RGB planes): g_t = gray of x*0.225+0.45 (0.299 R + 0.587 G + 0.114 B), d_t  \
       = g_1-g_0 (t = 0), g_{S-1}-g_{S-2} (t = S-1), (g_{t+1}-g_{t-1})/2 else (S >= 2); att =    \
       1/(1+exp(-k(|d|-c))), k = 5/(0.45|tanh a|+0.1), c = 0.6 tanh b; out = z * att [n,S,P]     \
       (out may be z).  att, dabs (|d|) [n,S,P] are stored unless NULL (training keeps them). */  \
    X(void, vbp_motion_forward, (real *out, real *att, real *dabs, const real *z, const real *x,   \
        real a, real b, size_t n, size_t S, size_t cf, size_t P, int nt), (out, att, dabs, z, x,   \
        a, b, n, S, cf, P, nt))                                                                    \
    /* Backward of out = z * att: dz = dout * att (dz may be dout); part [2*n*S] doubles: per      \
       (sample, frame) plane, sum dout*z*att*(1-att)*(|d|-c) and sum dout*z*att*(1-att) (then     \
       vbp_motion_reduce: da, db +=, the planes added in order). */                               \
    X(void, vbp_motion_backward, (real *dz, double *part, const real *dout, const real *z,         \
        const real *att, const real *dabs, real a, real b, size_t n, size_t S, size_t P, int nt),  \
        (dz, part, dout, z, att, dabs, a, b, n, S, P, nt))                                         \
    X(void, vbp_motion_reduce, (real *da, real *db, const double *part, size_t planes, real a,     \
        real b), (da, db, part, planes, a, b))                                                     \
    /* p = sigmoid(z), in place allowed. */                                                        \
    X(void, vbp_sigmoid_forward, (real *p, const real *z, size_t count, int nt), (p, z, count,     \
        nt))                                                                                       \
    /* TrackNet weighted BCE on probabilities p = sigmoid(z) against y; returns the mean over      \
       count.  dz (may be NULL) = d mean / d z, zero where p was clipped to [eps, 1-eps].          \
       part: ceil(count / VBP_LOSS_CHUNK) doubles. */                                              \
    X(double, vbp_wbce_loss, (real *dz, const real *p, const real *y, size_t count, double eps,    \
        double *part, int nt), (dz, p, y, count, eps, part, nt))

/* The names called by the rest of the library: they dispatch to the kernels of the ISA chosen
 * at the first call (vbp_net_isa_name(), include/vbp_net.h). */
#define VBP_LAYER_DECL_F(ret, name, params, args) ret name##_f params;
#define VBP_LAYER_DECL_D(ret, name, params, args) ret name##_d params;
VBP_LAYER_FUNCS(VBP_LAYER_DECL_F, float)
VBP_LAYER_FUNCS(VBP_LAYER_DECL_D, double)

#endif

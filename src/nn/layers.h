/*
 * layers.h - forward/backward pairs of the VballNetFastV1 layers (internal).
 *
 * Every layer exists twice, for float (suffix _f, used by the net) and double
 * (suffix _d, used by the finite-difference checks in tests/test_layers.c):
 * the bodies in layers_*.c are written once over the type `real` and compiled
 * for both through layers_tmpl.h.
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

#define VBP_LAYER_DECLS(real, FN)                                                                  \
    /* out[n,c,h,w] = sum_{ky,kx} wt[c,ky,kx] * in[n,c,y+ky-1,x+kx-1], zero padding. */           \
    void FN(vbp_dwconv_forward)(real *out, const real *in, const real *wt, size_t n, size_t c,     \
                                size_t h, size_t w, int nt);                                        \
    /* din [n,c,h,w] (may be NULL), dwt [c,3,3] +=; part: n*c*9.  = _part then _reduce. */          \
    void FN(vbp_dwconv_backward)(real *din, real *dwt, const real *dout, const real *in,           \
                                 const real *wt, size_t n, size_t c, size_t h, size_t w,           \
                                 real *part, int nt);                                               \
    /* The two halves of vbp_dwconv_backward: per-plane weight-gradient sums into part[pl*9..]   \
       (and din), then dwt += their sum over n in order (the caller may split n among threads). */ \
    void FN(vbp_dwconv_backward_part)(real *din, real *part, const real *dout, const real *in,     \
                                      const real *wt, size_t n, size_t c, size_t h, size_t w,      \
                                      int nt);                                                      \
    void FN(vbp_dwconv_reduce)(real *dwt, const real *part, size_t n, size_t c);                   \
    /* out[n,co,p] = act(scale[co] * sum_ci wt[co,ci] * in[n,ci,p] + bias[co]); scale, bias may   \
       be NULL (1, 0); act = ReLU when relu, else identity (eval-mode BatchNorm folds in here). */  \
    void FN(vbp_pwconv_forward)(real *out, const real *in, const real *wt, const real *bias,       \
                                const real *scale, int relu, size_t n, size_t ci, size_t co,       \
                                size_t P, int nt);                                                  \
    /* din [n,ci,P] (may be NULL), dwt [co,ci] +=, dbias [co] += (may be NULL);                     \
       part: VBP_PW_UNITS(n,P) * (co*ci + co).  = _part then _reduce. */                           \
    void FN(vbp_pwconv_backward)(real *din, real *dwt, real *dbias, const real *dout,              \
                                 const real *in, const real *wt, size_t n, size_t ci, size_t co,   \
                                 size_t P, real *part, int nt);                                     \
    /* Halves of vbp_pwconv_backward: per-unit sums (unit u = sample u/nch, chunk u%nch) of the   \
       weight and bias gradients at part[u*(co*ci+co)], and din; then the ordered sum of units. */  \
    void FN(vbp_pwconv_backward_part)(real *din, real *part, const real *dout, const real *in,     \
                                      const real *wt, size_t n, size_t ci, size_t co, size_t P,    \
                                      int nt);                                                      \
    void FN(vbp_pwconv_reduce)(real *dwt, real *dbias, const real *part, size_t units, size_t ci,  \
                               size_t co);                                                          \
    /* Training-mode BatchNorm + ReLU: y = max(0, gamma*(z-mean)*invstd + beta) with the batch     \
       statistics (biased var) saved in mean/invstd [c]; running stats updated with momentum and   \
       the unbiased var.  (Eval mode is folded into vbp_pwconv_forward.)  part: 2*n*c doubles. */  \
    void FN(vbp_bnrelu_forward)(real *y, const real *z, const real *gamma, const real *beta,       \
                                real *run_mean, real *run_var, real *mean, real *invstd,           \
                                size_t n, size_t c, size_t P, double momentum,                     \
                                double eps, double *part, int nt);                                  \
    /* dz [n,c,P] from dy (dz may equal dy: in place); dgamma, dbeta [c] +=.  Uses the            \
       training-mode batch statistics saved by forward.  part: 2*n*c doubles. */                   \
    void FN(vbp_bnrelu_backward)(real *dz, real *dgamma, real *dbeta, const real *dy,              \
                                 const real *y, const real *z, const real *gamma,                  \
                                 const real *mean, const real *invstd, size_t n, size_t c,         \
                                 size_t P, double *part, int nt);                                   \
    /* Phases of vbp_bnrelu_forward, for callers that split the batch among threads:            \
       part[pl] = sum over plane pl < n*c of z (mean NULL) or of (z - mean[c])^2; mean/var reduce \
       the plane sums of all n samples in order (var also updates the running stats when          \
       run_mean != NULL); apply normalises n samples. */                                          \
    void FN(vbp_bn_sums)(double *part, const real *z, const real *mean, size_t n, size_t c,        \
                         size_t P, int nt);                                                         \
    void FN(vbp_bn_mean)(real *mean, const double *part, size_t n, size_t c, size_t P);            \
    void FN(vbp_bn_var)(real *invstd, real *run_mean, real *run_var, const real *mean,             \
                        const double *part, size_t n, size_t c, size_t P, double momentum,          \
                        double eps);                                                                \
    void FN(vbp_bnrelu_apply)(real *y, const real *z, const real *gamma, const real *beta,         \
                              const real *mean, const real *invstd, size_t n, size_t c, size_t P, \
                              int nt);                                                              \
    /* Phases of vbp_bnrelu_backward: per-plane sums of g and g*xhat into part[2pl], [2pl+1];      \
       then dz for n samples from the sums of all N samples in part (dgamma, dbeta += when          \
       dgamma != NULL: one caller only). */                                                        \
    void FN(vbp_bnrelu_grad_sums)(double *part, const real *dy, const real *y, const real *z,      \
                                  const real *mean, const real *invstd, size_t n, size_t c,        \
                                  size_t P, int nt);                                                \
    void FN(vbp_bnrelu_grad_apply)(real *dz, real *dgamma, real *dbeta, const real *dy,            \
                                   const real *y, const real *z, const real *gamma,                \
                                   const real *mean, const real *invstd, const double *part,       \
                                   size_t N, size_t n, size_t c, size_t P, int nt);                 \
    /* out[n,c,h/2,w/2] = max over each 2x2 window (h, w even). */                                  \
    void FN(vbp_maxpool_forward)(real *out, const real *in, size_t n, size_t c, size_t h,          \
                                 size_t w, int nt);                                                 \
    /* din [n,c,h,w] += dout at the first maximum of each window (row-major order). */              \
    void FN(vbp_maxpool_backward)(real *din, const real *dout, const real *in, const real *out,    \
                                  size_t n, size_t c, size_t h, size_t w, int nt);                  \
    /* Bilinear 2x upsampling, align_corners=False: in [n,c,h,w] -> out [n,c,2h,2w], the output    \
       samples out_ns floats apart (>= c*4*h*w: lets it write into a concat buffer). */             \
    void FN(vbp_up2x_forward)(real *out, size_t out_ns, const real *in, size_t n, size_t c,        \
                              size_t h, size_t w, int nt);                                          \
    /* din [n,c,h,w] from dout [n,c,2h,2w] (samples dout_ns apart). */                              \
    void FN(vbp_up2x_backward)(real *din, const real *dout, size_t dout_ns, size_t n, size_t c,    \
                               size_t h, size_t w, int nt);                                         \
    /* Concatenation helper: dst[s, 0:c, :] = src[s] for n samples of c*P floats, dst samples      \
       dst_ns apart.  add=1: dst += src instead.  Backward of a concat is the same copy with       \
       the roles swapped (vbp_channels_gather). */                                                  \
    void FN(vbp_channels_scatter)(real *dst, size_t dst_ns, const real *src, size_t n,             \
                                  size_t cP, int nt);                                               \
    void FN(vbp_channels_gather)(real *dst, const real *src, size_t src_ns, size_t n, size_t cP,   \
                                 int add, int nt);                                                  \
    /* p = sigmoid(z), in place allowed. */                                                         \
    void FN(vbp_sigmoid_forward)(real *p, const real *z, size_t count, int nt);                    \
    /* TrackNet weighted BCE on probabilities p = sigmoid(z) against y; returns the mean over      \
       count.  dz (may be NULL) = d mean / d z, zero where p was clipped to [eps, 1-eps].           \
       part: ceil(count / VBP_LOSS_CHUNK) doubles. */                                               \
    double FN(vbp_wbce_loss)(real *dz, const real *p, const real *y, size_t count, double eps,     \
                             double *part, int nt);

#define VBP_FN_F(name) name##_f
#define VBP_FN_D(name) name##_d
VBP_LAYER_DECLS(float, VBP_FN_F)
VBP_LAYER_DECLS(double, VBP_FN_D)

#endif

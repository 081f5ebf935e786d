/*
 * layers_rows.h - per-row kernels shared by several layer files (internal; included inside
 * the template pass of layers_tmpl.h, so `real` and FN() are those of the pass): the rows
 * of the bilinear 2x upsampling, used by vbp_up2x_forward (layers_pool.c) and by the fused
 * eval-mode sep block (layers_conv.c), which must compute the same values bit for bit.
 * No include guard: included once per pass.
 */

/*
 * 1-D bilinear 2x upsampling with half-pixel centres and edge clamping:
 * output 0 copies input 0; output 2k (k >= 1) = .25 x[k-1] + .75 x[k];
 * output 2k+1 = .75 x[k] + .25 x[min(k+1, len-1)].
 * dst[0:2len] = a*ra up-sampled + b*rb up-sampled (rb may be NULL when b = 0).
 */
VBP_SAME_CODE static void FN(up_row)(real *restrict dst, const real *restrict ra,
                                     const real *restrict rb, real a, real b, size_t len)
{
    if (!rb)
        rb = ra, b = 0;
    const real q = (real)0.25, t = (real)0.75;
    const real v0 = a * ra[0] + b * rb[0], vl = a * ra[len - 1] + b * rb[len - 1];
    dst[0] = v0;
    if (len == 1) {
        dst[1] = v0;
        return;
    }
    dst[1] = t * v0 + q * (a * ra[1] + b * rb[1]);
    for (size_t k = 1; k < len - 1; k++) {
        const real vm = a * ra[k - 1] + b * rb[k - 1], v = a * ra[k] + b * rb[k];
        const real vp = a * ra[k + 1] + b * rb[k + 1];
        dst[2 * k] = q * vm + t * v;
        dst[2 * k + 1] = t * v + q * vp;
    }
    dst[2 * len - 2] = q * (a * ra[len - 2] + b * rb[len - 2]) + t * vl;
    dst[2 * len - 1] = vl;
}

/* Vertical taps of output row oy of a 2x upsampling of len rows: rows i0, i1, weights l0, l1. */
static void FN(up_taps)(size_t oy, size_t len, size_t *i0, size_t *i1, real *l0, real *l1)
{
    const size_t k = oy / 2;
    if (oy == 0) {
        *i0 = *i1 = 0, *l0 = 1, *l1 = 0;
    } else if (oy % 2 == 0) {
        *i0 = k - 1, *i1 = k, *l0 = (real)0.25, *l1 = (real)0.75;
    } else {
        *i0 = k, *i1 = k + 1 < len ? k + 1 : k, *l0 = (real)0.75, *l1 = (real)0.25;
    }
}

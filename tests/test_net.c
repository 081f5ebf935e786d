/*
 * test_net.c - the whole network: gradient, determinism, save/load, Adam, errors.  main() runs
 * the tests once per architecture (VballNetFastV1, VballNetV1): `model` is the one under test.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "fixture.h"
#include "vbp_net.h"
#include "vbp_safetensors.h"

void vbp_net_set_fused(vbp_net *net, int on); /* src/util/internal.h */

static uint64_t rng = 99;
static float frand(void) /* [0, 1) */
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(rng >> 40) * 0x1.0p-24f;
}

static const char *model = "VballNetFastV1";
static int is_v1(void)
{
    return !strcmp(model, "VballNetV1");
}

/* VballNetV1's motion prompt needs two frames at least, of 1 or 3 channels: shapes of one
 * frame get two, other channel counts one per frame. */
static void frames(uint32_t *cin, uint32_t *cout)
{
    if (is_v1() && *cout < 2)
        *cin = *cin == *cout ? 2 : 6, *cout = 2;
    if (is_v1() && *cin != *cout && *cin != 3 * *cout)
        *cin = *cout;
}

static vbp_net *make(uint32_t cin, uint32_t cout, uint32_t h, uint32_t w, uint32_t batch,
                     uint32_t threads, uint64_t seed)
{
    frames(&cin, &cout);
    vbp_net_config cfg = {cin, cout, h, w, batch, threads, model};
    vbp_net *net = NULL;
    vbp_error err;
    assert_int_equal(vbp_net_create(&cfg, seed, &net, &err), VBP_OK);
    return net;
}

/* Random input and a target with a few hot pixels (like heatmaps). */
static void sample(float *x, size_t nx, float *y, size_t ny)
{
    for (size_t i = 0; i < nx; i++)
        x[i] = frand();
    for (size_t i = 0; i < ny; i++)
        y[i] = frand() < 0.05f ? 1.0f : 0.0f;
}

static float step_loss(vbp_net *net, const float *x, const float *y, size_t n)
{
    float loss = 0.0f;
    vbp_error err;
    if (vbp_net_forward(net, x, n, 1, &err) || vbp_net_loss(net, y, &loss, &err))
        fail_msg("%s", vbp_error_message(&err));
    return loss;
}

static void param_count_and_names(void **state)
{
    (void)state;
    vbp_net *net = make(3, 3, 16, 24, 1, 1, 1);
    /* FastV1: 7 blocks of 7 tensors and the head; V1: 6 blocks of 8 (with the pointwise bias),
     * the head and the motion scalars (docs/network.md) */
    const size_t count = is_v1() ? 52 : 51;
    assert_string_equal(vbp_net_get_config(net)->model, model);
    assert_int_equal(vbp_net_param_count(net), is_v1() ? 31648 : 9166);
    assert_int_equal(vbp_net_tensor_count(net), count);
    vbp_net_tensor t;
    assert_int_equal(vbp_net_tensor_info(net, 1, &t), VBP_OK);
    assert_string_equal(t.name, is_v1() ? "enc1a.pw.weight" : "enc1.pw.weight");
    assert_int_equal(t.ndim, 4);
    assert_true(t.shape[0] == (is_v1() ? 32 : 8) && t.shape[1] == 3 && t.shape[2] == 1 &&
                t.shape[3] == 1);
    if (is_v1()) {
        assert_int_equal(vbp_net_tensor_info(net, 2, &t), VBP_OK);
        assert_string_equal(t.name, "enc1a.pw.bias");
        assert_int_equal(vbp_net_tensor_info(net, 8 * 4 + 1, &t), VBP_OK); /* dec1: 192 -> 64 */
        assert_string_equal(t.name, "dec1.pw.weight");
        assert_true(t.shape[0] == 64 && t.shape[1] == 192);
        assert_int_equal(vbp_net_tensor_info(net, 51, &t), VBP_OK);
        assert_string_equal(t.name, "motion.b");
        assert_true(t.kind == VBP_TENSOR_PARAM && t.ndim == 0 && t.numel == 1);
    }
    assert_int_equal(vbp_net_tensor_info(net, is_v1() ? 49 : 50, &t), VBP_OK);
    assert_string_equal(t.name, "head.bias");
    assert_int_equal(vbp_net_tensor_info(net, count, &t), VBP_E_ARG);
    size_t params = 0, buffers = 0;
    for (size_t i = 0; i < count; i++) {
        vbp_net_tensor_info(net, i, &t);
        params += t.kind == VBP_TENSOR_PARAM ? t.numel : 0;
        buffers += t.kind == VBP_TENSOR_BUFFER ? t.numel : 0;
    }
    assert_int_equal(params, vbp_net_param_count(net));
    assert_int_equal(buffers, vbp_net_buffer_count(net));
    vbp_net_free(net);
    /* bad configurations: sizes the pooling levels do not divide, unknown models, V1 on one
     * frame or on frames of 2 channels */
    vbp_net_config bad = {3, 3, is_v1() ? 18 : 20, 24, 1, 1, model};
    vbp_net *none = (vbp_net *)1;
    vbp_error err;
    assert_int_equal(vbp_net_create(&bad, 1, &none, &err), VBP_E_ARG);
    assert_null(none);
    assert_non_null(strstr(err.detail, is_v1() ? "multiples of 4" : "multiples of 8"));
    bad = (vbp_net_config){3, 3, 16, 24, 1, 1, "VballNetV9"};
    assert_int_equal(vbp_net_create(&bad, 1, &none, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "unknown model 'VballNetV9'"));
    bad = (vbp_net_config){3, 1, 16, 24, 1, 1, "VballNetV1"};
    assert_int_equal(vbp_net_create(&bad, 1, &none, &err), VBP_E_ARG);
    bad = (vbp_net_config){4, 2, 16, 24, 1, 1, "VballNetV1"};
    assert_int_equal(vbp_net_create(&bad, 1, &none, &err), VBP_E_ARG);
    assert_non_null(strstr(err.detail, "at least 2 frames of 1 or 3 channels"));
}

static void init_is_seeded_glorot(void **state)
{
    (void)state;
    vbp_net *a = make(1, 1, 8, 8, 1, 1, 7), *b = make(1, 1, 8, 8, 1, 1, 7);
    vbp_net *c = make(1, 1, 8, 8, 1, 1, 8);
    const size_t n = vbp_net_param_count(a);
    assert_memory_equal(vbp_net_params(a), vbp_net_params(b), n * sizeof(float));
    assert_memory_not_equal(vbp_net_params(a), vbp_net_params(c), n * sizeof(float));
    vbp_net_tensor t;
    for (size_t i = 0; i < vbp_net_tensor_count(a); i++) {
        vbp_net_tensor_info(a, i, &t);
        if (t.kind != VBP_TENSOR_PARAM)
            continue;
        const float *p = vbp_net_params(a) + t.offset;
        if (t.ndim == 4) { /* within the Glorot limit (Keras' 0.05 for V1), spread over it */
            const double lim = is_v1() ? 0.05
                                       : sqrt(6.0 / ((double)t.shape[1] * t.shape[2] * t.shape[3] +
                                                     (double)t.shape[0] * t.shape[2] * t.shape[3]));
            double mx = 0;
            for (size_t j = 0; j < t.numel; j++)
                mx = fx_max_nan(mx, fabs(p[j]));
            assert_true(mx <= lim && (t.numel < 8 || mx > 0.5 * lim));
        } else {
            const float want = strstr(t.name, "bn.weight") ? 1.0f
                               : !strcmp(t.name, "motion.a") ? 0.1f
                                                             : 0.0f;
            for (size_t j = 0; j < t.numel; j++)
                assert_true(p[j] == want);
        }
    }
    vbp_net_free(a), vbp_net_free(b), vbp_net_free(c);
}

/*
 * Whole-net gradient against finite differences of the float net along the
 * gradient itself, one tensor at a time: (L(p + e g_T) - L(p - e g_T)) / 2e
 * must equal |g_T|^2.  A directional check averages over the ReLU and max-pool
 * kinks that make single-weight differences of a float net too noisy; it
 * still catches wiring errors (skips, concat order, levels, scale or sign).
 * The per-layer math is checked tightly in double by test_layers, and every
 * gradient element against PyTorch by tests/torch_parity.py.
 */
static void whole_net_gradient(void **state)
{
    (void)state;
    const size_t n = 2, H = 32, W = 32;
    vbp_net *net = make(3, 1, H, W, 2, 2, 3);
    const vbp_net_config *nc = vbp_net_get_config(net);
    const size_t nx = n * nc->in_channels * H * W, ny = n * nc->out_channels * H * W;
    vbp_net_tensor t;
    for (size_t i = 0; is_v1() && i < vbp_net_tensor_count(net); i++) {
        /* Keras' 0.05 leaves gradients of 1e-9 that float differences cannot resolve: weights
         * of Glorot's size, and the motion scalars where their gradients are not small. */
        vbp_net_tensor_info(net, i, &t);
        float *p = vbp_net_params(net) + t.offset;
        for (size_t j = 0; t.ndim == 4 && j < t.numel; j++)
            p[j] *= 8;
        if (!strcmp(t.name, "motion.a") || !strcmp(t.name, "motion.b"))
            p[0] = !strcmp(t.name, "motion.a") ? 0.5f : 0.1f;
    }
    float *x = malloc(nx * 4), *y = malloc(ny * 4);
    sample(x, nx, y, ny);
    vbp_net_zero_grad(net);
    step_loss(net, x, y, n);
    assert_int_equal(vbp_net_backward(net, NULL), VBP_OK);
    const size_t np = vbp_net_param_count(net);
    float *g = malloc(np * 4), *p = vbp_net_params(net), *keep = malloc(np * 4);
    memcpy(g, vbp_net_grads(net), np * 4);
    memcpy(keep, p, np * 4);
    for (size_t i = 0; i < vbp_net_tensor_count(net); i++) {
        vbp_net_tensor_info(net, i, &t);
        if (t.kind != VBP_TENSOR_PARAM)
            continue;
        double g2 = 0, gmax = 0;
        for (size_t j = t.offset; j < t.offset + t.numel; j++)
            g2 += (double)g[j] * g[j], gmax = fx_max_nan(gmax, fabs(g[j]));
        const double e = 1e-3 / gmax; /* the largest weight moves by 1e-3 */
        double l[4]; /* at +e, -e, +2e, -2e */
        for (int s = 0; s < 4; s++) {
            const double d = (s & 1 ? -e : e) * (s < 2 ? 1 : 2);
            for (size_t j = t.offset; j < t.offset + t.numel; j++)
                p[j] = (float)(keep[j] + d * g[j]);
            l[s] = step_loss(net, x, y, n);
        }
        memcpy(p, keep, np * 4);
        /* five-point stencil: truncation error O(e^4) */
        const double fd = (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * e);
        const double rel = fabs(fd - g2) / g2;
        /* kinks crossed by the step leave ~1% (measured); a wiring error gives O(1) */
        if (rel > 3e-2)
            fail_msg("%s: directional derivative %.6g, gradient says %.6g", t.name, fd, g2);
    }
    free(x), free(y), free(g), free(keep);
    vbp_net_free(net);
}

/* Same inputs, 1 or 2 threads: bit-identical outputs, loss, gradients and running stats. */
static void threads_bit_identical(void **state)
{
    (void)state;
    const size_t n = 3, H = 24, W = 40;
    vbp_net *a = make(3, 1, H, W, 3, 1, 5), *b = make(3, 1, H, W, 3, 2, 5);
    const vbp_net_config *nc = vbp_net_get_config(a);
    const size_t nx = n * nc->in_channels * H * W, ny = n * nc->out_channels * H * W;
    float *x = malloc(nx * 4), *y = malloc(ny * 4), la, lb;
    sample(x, nx, y, ny);
    vbp_adam_config adam;
    vbp_adam_defaults(&adam);
    for (int it = 0; it < 2; it++) {
        vbp_net_zero_grad(a), vbp_net_zero_grad(b);
        la = step_loss(a, x, y, n), lb = step_loss(b, x, y, n);
        assert_memory_equal(&la, &lb, 4);
        assert_memory_equal(vbp_net_output(a), vbp_net_output(b), ny * 4);
        assert_int_equal(vbp_net_backward(a, NULL), VBP_OK);
        assert_int_equal(vbp_net_backward(b, NULL), VBP_OK);
        assert_memory_equal(vbp_net_grads(a), vbp_net_grads(b), vbp_net_param_count(a) * 4);
        assert_int_equal(vbp_net_adam_step(a, &adam, 1e-3f, NULL), VBP_OK);
        assert_int_equal(vbp_net_adam_step(b, &adam, 1e-3f, NULL), VBP_OK);
    }
    assert_memory_equal(vbp_net_params(a), vbp_net_params(b), vbp_net_param_count(a) * 4);
    assert_memory_equal(vbp_net_buffers(a), vbp_net_buffers(b), vbp_net_buffer_count(a) * 4);
    free(x), free(y);
    vbp_net_free(a), vbp_net_free(b);
}

/*
 * The fused eval forward (one pass per sep block, concat read in place) against the
 * layer-by-layer one: the same bits (V1: within 2e-6, its depthwise rows over the upsampled
 * channels are polyphase), on odd shapes (levels down to 1 pixel wide, planes not a
 * multiple of the vector width), 1 and 3 input channels, batch 1 and 3, 1 and 2 threads; the
 * last shape has several bands per plane at levels 0 and 1 (encoder pooling across bands).
 * Trained a few steps first so that BN's running stats and the weights are not the initial
 * ones (ReLU cuts, both signs).
 */
static void fused_eval_bit_identical(void **state)
{
    (void)state;
    const uint32_t shapes[][4] = {/* cin, cout (seq), H, W */
                                  {3, 3, 24, 40}, {1, 1, 8, 8}, {3, 1, 40, 24}, {1, 3, 16, 72},
                                  {3, 3, 56, 136}, {3, 1, 144, 200}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        uint32_t C = shapes[k][0], S = shapes[k][1];
        const uint32_t H = shapes[k][2], W = shapes[k][3];
        frames(&C, &S);
        const size_t nmax = 3, nx = nmax * C * H * W, ny = nmax * S * H * W;
        vbp_net *a = make(C, S, H, W, 3, 1, 21 + k), *b = make(C, S, H, W, 3, 2, 21 + k);
        float *x = malloc(nx * 4), *y = malloc(ny * 4), *ref = malloc(ny * 4);
        sample(x, nx, y, ny);
        vbp_adam_config adam;
        vbp_adam_defaults(&adam);
        for (int it = 0; it < 2; it++) {
            vbp_net_zero_grad(a);
            step_loss(a, x, y, nmax);
            assert_int_equal(vbp_net_backward(a, NULL), VBP_OK);
            assert_int_equal(vbp_net_adam_step(a, &adam, 1e-2f, NULL), VBP_OK);
        }
        memcpy(vbp_net_params(b), vbp_net_params(a), vbp_net_param_count(a) * 4);
        memcpy(vbp_net_buffers(b), vbp_net_buffers(a), vbp_net_buffer_count(a) * 4);
        for (size_t n = 1; n <= nmax; n += 2) {
            const size_t cnt = n * S * H * W;
            vbp_net_set_fused(a, 0);
            assert_int_equal(vbp_net_forward(a, x, n, 0, NULL), VBP_OK);
            memcpy(ref, vbp_net_output(a), cnt * 4);
            size_t hot = 0;
            for (size_t i = 0; i < cnt; i++)
                hot += ref[i] > 0.0f && ref[i] < 1.0f && ref[i] != 0.5f;
            assert_true(hot > cnt / 2); /* a real output, not a constant */
            vbp_net_set_fused(a, 1);
            assert_int_equal(vbp_net_forward(a, x, n, 0, NULL), VBP_OK);
            if (is_v1()) { /* polyphase depthwise rows over the upsampled channels: rounding */
                const float *o = vbp_net_output(a);
                float worst = 0;
                for (size_t i = 0; i < cnt; i++)
                    worst = fabsf(o[i] - ref[i]) > worst ? fabsf(o[i] - ref[i]) : worst;
                assert_true(worst <= 2e-6f);
                memcpy(ref, o, cnt * 4); /* the thread count changes no bit */
            } else {
                assert_memory_equal(vbp_net_output(a), ref, cnt * 4);
            }
            assert_int_equal(vbp_net_forward(b, x, n, 0, NULL), VBP_OK);
            assert_memory_equal(vbp_net_output(b), ref, cnt * 4);
        }
        free(x), free(y), free(ref);
        vbp_net_free(a), vbp_net_free(b);
    }
}

/* A few Adam steps on one batch lower the loss; eval mode uses the running stats. */
static void training_lowers_loss(void **state)
{
    (void)state;
    const size_t n = 2, H = 16, W = 32;
    vbp_net *net = make(1, 1, H, W, 2, 0, 11);
    const size_t nx = n * vbp_net_get_config(net)->in_channels * H * W;
    float *x = malloc(nx * 4), *y = malloc(nx * 4), first = 0, last = 0;
    sample(x, nx, y, nx);
    vbp_adam_config adam;
    vbp_adam_defaults(&adam);
    for (int it = 0; it < 30; it++) {
        vbp_net_zero_grad(net);
        last = step_loss(net, x, y, n);
        if (it == 0)
            first = last;
        assert_int_equal(vbp_net_backward(net, NULL), VBP_OK);
        assert_int_equal(vbp_net_adam_step(net, &adam, 1e-2f, NULL), VBP_OK);
    }
    assert_true(last < 0.7f * first);
    assert_int_equal(vbp_net_adam_steps(net), 30);
    assert_int_equal(vbp_net_batches_tracked(net), 30);
    /* eval forward does not change the running statistics */
    const size_t nb = vbp_net_buffer_count(net);
    float *keep = malloc(nb * 4);
    memcpy(keep, vbp_net_buffers(net), nb * 4);
    assert_int_equal(vbp_net_forward(net, x, n, 0, NULL), VBP_OK);
    assert_memory_equal(keep, vbp_net_buffers(net), nb * 4);
    assert_int_equal(vbp_net_batches_tracked(net), 30);
    free(x), free(y), free(keep);
    vbp_net_free(net);
}

static void call_order_errors(void **state)
{
    (void)state;
    vbp_net *net = make(1, 1, 8, 8, 2, 1, 1);
    float x[3 * 64] = {0}, loss;
    vbp_error err;
    assert_int_equal(vbp_net_loss(net, x, &loss, &err), VBP_E_ARG);
    assert_int_equal(vbp_net_backward(net, &err), VBP_E_ARG);
    assert_int_equal(vbp_net_forward(net, x, 3, 1, &err), VBP_E_ARG);
    assert_int_equal(vbp_net_forward(net, x, 0, 1, &err), VBP_E_ARG);
    assert_int_equal(vbp_net_forward(net, x, 1, 0, &err), VBP_OK);
    assert_int_equal(vbp_net_loss(net, x, &loss, &err), VBP_OK);
    assert_int_equal(vbp_net_backward(net, &err), VBP_E_ARG); /* eval forward */
    vbp_net_free(net);
}

static void adam_matches_formula(void **state)
{
    (void)state;
    vbp_adam_config c;
    vbp_adam_defaults(&c);
    float p[2] = {1.0f, -2.0f}, m[2] = {0}, v[2] = {0};
    const float g[2] = {0.5f, -0.25f};
    double pd[2] = {1, -2}, md[2] = {0}, vd[2] = {0};
    for (uint64_t t = 1; t <= 3; t++) {
        vbp_adam_update(&c, 0.01f, t, 2, p, g, m, v);
        for (int i = 0; i < 2; i++) {
            md[i] = 0.9 * md[i] + 0.1 * g[i];
            vd[i] = 0.999 * vd[i] + 0.001 * g[i] * g[i];
            const double mh = md[i] / (1 - pow(0.9, (double)t)), vh = vd[i] / (1 - pow(0.999, (double)t));
            pd[i] -= 0.01 * mh / (sqrt(vh) + 1e-8);
            assert_true(fabs(p[i] - pd[i]) < 1e-6);
        }
    }
    /* AdamW: decoupled decay shrinks the parameter before the Adam step */
    c.weight_decay = 0.1f;
    c.decoupled = 1;
    float q[1] = {1.0f}, mq[1] = {0}, vq[1] = {0}, z[1] = {0};
    vbp_adam_update(&c, 0.1f, 1, 1, q, z, mq, vq);
    assert_true(fabsf(q[0] - 0.99f) < 1e-7f);
    /* Adam with L2: the decay enters the gradient (first step moves by lr) */
    c.decoupled = 0;
    q[0] = 1.0f, mq[0] = vq[0] = 0;
    vbp_adam_update(&c, 0.1f, 1, 1, q, z, mq, vq);
    assert_true(fabsf(q[0] - 0.9f) < 1e-6f);
    /* staircase decay */
    assert_true(vbp_lr_staircase(1e-3f, 0.9f, 99, 100) == 1e-3f);
    assert_true(fabsf(vbp_lr_staircase(1e-3f, 0.9f, 100, 100) - 9e-4f) < 1e-10f);
    assert_true(fabsf(vbp_lr_staircase(1e-3f, 0.9f, 250, 100) - 8.1e-4f) < 1e-10f);
    assert_true(vbp_lr_staircase(1e-3f, 0.9f, 250, 0) == 1e-3f);
}

static char tmpdir[64];
static char *tmp_path(const char *name)
{
    static char buf[160];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static void save_load_roundtrip_and_errors(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/vbp_test_net_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    vbp_net *a = make(3, 3, 8, 16, 1, 1, 21), *b = make(3, 3, 8, 16, 1, 1, 22);
    float x[3 * 128];
    for (int i = 0; i < 3 * 128; i++)
        x[i] = frand();
    assert_int_equal(vbp_net_forward(a, x, 1, 1, NULL), VBP_OK); /* moves running stats */
    char path[160];
    strcpy(path, tmp_path("w.safetensors"));
    vbp_error err;
    assert_int_equal(vbp_net_save_safetensors(a, path, &err), VBP_OK);
    assert_int_equal(vbp_net_load_safetensors(b, path, &err), VBP_OK);
    assert_memory_equal(vbp_net_params(a), vbp_net_params(b), vbp_net_param_count(a) * 4);
    assert_memory_equal(vbp_net_buffers(a), vbp_net_buffers(b), vbp_net_buffer_count(a) * 4);
    assert_int_equal(vbp_net_batches_tracked(b), 1);
    /* the file is a valid safetensors with metadata */
    vbp_st_file *f;
    assert_int_equal(vbp_safetensors_open(path, &f, &err), VBP_OK);
    assert_int_equal(vbp_safetensors_count(f), is_v1() ? 52 : 51);
    assert_string_equal(vbp_safetensors_meta(f, "format"), "pt");
    assert_string_equal(vbp_safetensors_meta(f, "model"), model);
    vbp_st_tensor t;
    assert_int_equal(vbp_safetensors_find(f, is_v1() ? "enc1a.bn.num_batches_tracked"
                                                     : "enc1.bn.num_batches_tracked", &t), VBP_OK);
    assert_true(t.dtype == VBP_ST_I64 && t.ndim == 0);
    vbp_safetensors_close(f);
    /* what the file is: model, channels, frames */
    vbp_net_config wc = {0, 0, 8, 8, 1, 1, NULL};
    assert_int_equal(vbp_net_weights_config(path, &wc, &err), VBP_OK);
    assert_string_equal(wc.model, model);
    assert_true(wc.in_channels == 3 && wc.out_channels == 3 && wc.height == 8);
    /* weights of the other architecture: one line naming both */
    vbp_net_config oc = {3, 3, 8, 16, 1, 1, is_v1() ? "VballNetFastV1" : "VballNetV1"};
    vbp_net *o;
    assert_int_equal(vbp_net_create(&oc, 1, &o, &err), VBP_OK);
    assert_int_equal(vbp_net_load_safetensors(o, path, &err), VBP_E_GEOMETRY);
    char want[160];
    snprintf(want, sizeof want, "w.safetensors: weights of %s, this network is %s", model,
             oc.model);
    assert_non_null(strstr(err.detail, want));
    vbp_net_free(o);
    /* shape mismatch: another input width; the net is left unchanged */
    vbp_net *g = make(is_v1() ? 9 : 1, 3, 8, 16, 1, 1, 23);
    float *before = malloc(vbp_net_param_count(g) * 4);
    memcpy(before, vbp_net_params(g), vbp_net_param_count(g) * 4);
    assert_int_equal(vbp_net_load_safetensors(g, path, &err), VBP_E_GEOMETRY);
    snprintf(want, sizeof want, "w.safetensors: tensor %s.dw.weight has shape [3,1,3,3], this "
             "network expects [%u,1,3,3]", is_v1() ? "enc1a" : "enc1", is_v1() ? 9u : 1u);
    assert_non_null(strstr(err.detail, want));
    assert_memory_equal(before, vbp_net_params(g), vbp_net_param_count(g) * 4);
    /* truncated file */
    FILE *src = fopen(path, "rb");
    char *bytes = malloc(1 << 20);
    const size_t len = fread(bytes, 1, 1 << 20, src);
    fclose(src);
    FILE *dst = fopen(tmp_path("cut.safetensors"), "wb");
    fwrite(bytes, 1, len - 9, dst);
    fclose(dst);
    assert_int_equal(vbp_net_load_safetensors(b, tmp_path("cut.safetensors"), &err), VBP_E_FORMAT);
    assert_non_null(strstr(err.detail, "cut.safetensors"));
    /* corrupt header length and JSON */
    bytes[0] = (char)0xff, bytes[5] = 1;
    dst = fopen(tmp_path("bad.safetensors"), "wb");
    fwrite(bytes, 1, len, dst);
    fclose(dst);
    assert_int_equal(vbp_net_load_safetensors(b, tmp_path("bad.safetensors"), &err), VBP_E_FORMAT);
    /* missing file; unwritable target leaves nothing behind */
    assert_int_equal(vbp_net_load_safetensors(b, tmp_path("none"), &err), VBP_E_IO);
    assert_int_equal(vbp_net_save_safetensors(a, tmp_path("no/dir/w.safetensors"), &err), VBP_E_IO);
    assert_non_null(strstr(err.detail, "no/dir/w.safetensors"));
    free(bytes), free(before);
    vbp_net_free(a), vbp_net_free(b), vbp_net_free(g);
    unlink(path);
    unlink(tmp_path("cut.safetensors"));
    unlink(tmp_path("bad.safetensors"));
    assert_int_equal(rmdir(tmpdir), 0); /* nothing else was left in the directory */
}

int main(void)
{
    int failed = 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(param_count_and_names),
        cmocka_unit_test(init_is_seeded_glorot),
        cmocka_unit_test(whole_net_gradient),
        cmocka_unit_test(threads_bit_identical),
        cmocka_unit_test(fused_eval_bit_identical),
        cmocka_unit_test(training_lowers_loss),
        cmocka_unit_test(call_order_errors),
        cmocka_unit_test(adam_matches_formula),
        cmocka_unit_test(save_load_roundtrip_and_errors),
    };
    for (unsigned i = 0; i < vbp_net_model_count(); i++) {
        model = vbp_net_model_name(i);
        printf("model %s, kernels %s\n", model, vbp_net_isa_name());
        failed |= cmocka_run_group_tests_name(model, tests, NULL, NULL);
    }
    return failed;
}

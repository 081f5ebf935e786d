/*
 * test_onnx.c - vbp_onnx_write / vbp_onnx_export contracts: the protobuf
 * framing of the model, determinism, and every refusal leaving no file.
 * (ONNX Runtime and onnx.checker check the model itself: onnx_export_test.py.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fixture.h"
#include "vbp_onnx.h"

static vbp_net *make_net(uint32_t channels, uint32_t seq)
{
    vbp_net_config cfg = {channels * seq, seq, 8, 8, 1, 1, NULL};
    vbp_net *net = NULL;
    assert_int_equal(vbp_net_create(&cfg, 11, &net, NULL), VBP_OK);
    return net;
}

static char *path_in(const char *name)
{
    static char buf[16][4096];
    static int k;
    char *p = buf[k++ % 16]; /* callers hold at most a few at once */
    snprintf(p, sizeof buf[0], "%s/%s", fx_dir, name);
    return p;
}

/* Read a varint at *pos of buf (n bytes). */
static uint64_t varint(const uint8_t *buf, size_t n, size_t *pos)
{
    uint64_t v = 0;
    for (int shift = 0; *pos < n && shift < 64; shift += 7) {
        const uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    fail_msg("truncated varint");
    return 0;
}

/* The top level of the ModelProto: ir_version 7, one graph, one opset, three metadata entries,
 * every length-delimited field inside the file; the graph holds the weights' bytes. */
static void test_model_framing(void **state)
{
    (void)state;
    vbp_net *net = make_net(3, 3);
    const char *path = path_in("m.onnx");
    assert_int_equal(vbp_onnx_write(net, 3, 0, 0, path, NULL), VBP_OK);
    size_t n;
    uint8_t *buf = fx_read_all(path, &n);
    assert_non_null(buf);
    size_t pos = 0, graph_len = 0, graph_at = 0;
    uint64_t ir = 0;
    int graphs = 0, opsets = 0, meta = 0;
    while (pos < n) {
        const uint64_t key = varint(buf, n, &pos);
        const unsigned field = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
        if (wire == 0) {
            const uint64_t v = varint(buf, n, &pos);
            if (field == 1)
                ir = v;
        } else {
            assert_int_equal(wire, 2);
            const uint64_t len = varint(buf, n, &pos);
            assert_true(len <= n - pos);
            graphs += field == 7, opsets += field == 8, meta += field == 14;
            if (field == 7)
                graph_at = pos, graph_len = len;
            pos += len;
        }
    }
    assert_int_equal(pos, n);
    assert_int_equal(ir, 7);
    assert_int_equal(graphs, 1);
    assert_int_equal(opsets, 1);
    assert_int_equal(meta, 3);
    /* the raw bytes of the first depthwise weights appear in the graph */
    const float *dw = vbp_net_params(net); /* enc1.dw.weight is tensor 0 at offset 0 */
    assert_non_null(memmem(buf + graph_at, graph_len, dw, 9 * 9 * sizeof(float)));
    /* the same net writes the same bytes */
    const char *again = path_in("m2.onnx");
    assert_int_equal(vbp_onnx_write(net, 3, 288, 512, again, NULL), VBP_OK);
    size_t n2;
    uint8_t *buf2 = fx_read_all(again, &n2);
    assert_non_null(buf2);
    assert_int_equal(n, n2);
    assert_memory_equal(buf, buf2, n);
    free(buf), free(buf2);
    vbp_net_free(net);
}

static void expect_refused(vbp_net *net, uint32_t ch, uint32_t h, uint32_t w, const char *name,
                           int code, const char *words)
{
    const char *path = path_in(name);
    vbp_error err;
    const int before = fx_entries(fx_dir);
    assert_int_equal(vbp_onnx_write(net, ch, h, w, path, &err), code);
    assert_non_null(strstr(err.detail, words));
    assert_non_null(strstr(err.detail, name));
    assert_false(fx_exists(path));
    assert_int_equal(fx_entries(fx_dir), before); /* no temporary left behind either */
}

static void test_refusals(void **state)
{
    (void)state;
    vbp_net *net = make_net(1, 3);
    expect_refused(net, 1, 100, 512, "size.onnx", VBP_E_ARG, "multiples of 8");
    expect_refused(net, 1, 288, 0, "zero.onnx", VBP_E_ARG, "multiples of 8");
    expect_refused(net, 3, 288, 512, "chan.onnx", VBP_E_ARG, "frame channels");
    vbp_net_params(net)[vbp_net_param_count(net) - 1] = NAN; /* head.bias */
    expect_refused(net, 1, 288, 512, "nan.onnx", VBP_E_NUMERIC, "head");
    vbp_net_params(net)[vbp_net_param_count(net) - 1] = 0;
    vbp_net_buffers(net)[8] = -1; /* enc1.bn.running_var[0] */
    expect_refused(net, 1, 288, 512, "var.onnx", VBP_E_NUMERIC, "enc1");
    vbp_net_buffers(net)[8] = 1;
    vbp_error err;
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/no/such/dir.onnx", fx_dir);
    assert_int_equal(vbp_onnx_write(net, 1, 8, 8, missing, &err), VBP_E_IO);
    assert_non_null(strstr(err.detail, missing));
    assert_int_equal(vbp_onnx_write(net, 1, 8, 8, path_in("ok.onnx"), &err), VBP_OK);
    vbp_net_free(net);
}

/* vbp_onnx_export reads seq and channels from the weights, adds the detection threshold, and
 * names a bad weights file. */
static void test_export_from_weights(void **state)
{
    (void)state;
    vbp_net *net = make_net(3, 2);
    const char *w = path_in("w.safetensors"), *out = path_in("w.onnx");
    assert_int_equal(vbp_net_save_safetensors(net, w, NULL), VBP_OK);
    assert_int_equal(vbp_onnx_export(w, 16, 24, out, NULL), VBP_OK);
    const char *direct = path_in("direct.onnx");
    assert_int_equal(vbp_onnx_write(net, 3, 16, 24, direct, NULL), VBP_OK);
    size_t n1, n2;
    uint8_t *a = fx_read_all(out, &n1), *b = fx_read_all(direct, &n2);
    assert_non_null(a);
    assert_non_null(b);
    /* the same model, then one more metadata_props entry: threshold = the default 0.5 */
    assert_true(n1 > n2 && n1 < n2 + 32);
    assert_memory_equal(a, b, n2);
    assert_non_null(memmem(a + n2, n1 - n2, "threshold", 9));
    assert_non_null(memmem(a + n2, n1 - n2, "0.5", 3));
    free(b);
    /* half a weights file */
    const char *bad = path_in("bad.safetensors"), *bad_out = path_in("bad.onnx");
    size_t wn;
    uint8_t *wb = fx_read_all(w, &wn);
    assert_non_null(wb);
    assert_int_equal(fx_write_file(bad, wb, wn / 2), 0);
    vbp_error err;
    assert_int_not_equal(vbp_onnx_export(bad, 0, 0, bad_out, &err), VBP_OK);
    assert_non_null(strstr(err.detail, bad));
    assert_false(fx_exists(bad_out));
    free(a), free(wb);
    vbp_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_framing),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_export_from_weights),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

/*
 * test_escape.c - messages that quote bytes from a file quote them escaped (vbp_escape): a
 * safetensors header's tensor names and dtypes, a state file's metadata, CSV cells and
 * headers, clip names of a pack (verify, vbdump clips).  The exact texts are asserted: a
 * control byte shows as \xHH, never raw (an ESC would reach the terminal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fixture.h"
#include "labels_csv.h"
#include "train_internal.h"
#include "vbp_dump.h"
#include "vbp_net.h"
#include "vbp_pack.h"
#include "vbp_safetensors.h"

static char *in_dir(const char *name)
{
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fx_dir, name);
    return buf[k];
}

/* A safetensors file: the 8-byte header length, the header, then `data` bytes of zeros. */
static const char *write_st(const char *name, const char *header, size_t data)
{
    size_t h = strlen(header);
    uint8_t *b = calloc(1, 8 + h + data);
    assert_non_null(b);
    uint64_t n = h;
    memcpy(b, &n, 8);
    memcpy(b + 8, header, h);
    const char *path = in_dir(name);
    assert_int_equal(fx_write_file(path, b, 8 + h + data), 0);
    free(b);
    return path;
}

/* vbp_safetensors_open fails with VBP_E_FORMAT and exactly "PATH: want". */
static void st_refused(const char *path, const char *want)
{
    vbp_st_file *f;
    vbp_error e;
    char full[4096 + 512];
    assert_int_equal(vbp_safetensors_open(path, &f, &e), VBP_E_FORMAT);
    assert_null(f);
    snprintf(full, sizeof full, "%s: %s", path, want);
    assert_string_equal(e.detail, full);
}

static void safetensors_header(void **s)
{
    (void)s;
    /* the damaged model: a 0x1f after the dtype */
    st_refused(write_st("dtype.safetensors",
                        "{\"enc3.bn.bias\":{\"dtype\":\"F32\x1f\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                        4),
               "tensor enc3.bn.bias has dtype F32\\x1f (only F32, I64)");
    st_refused(write_st("name.safetensors",
                        "{\"\x1b[2Jenc1\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
               "tensor \\x1b[2Jenc1 lacks dtype, shape or data_offsets");
    st_refused(write_st("offsets.safetensors",
                        "{\"a\\tb\x7f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
               "tensor a\\x09b\\x7f: data_offsets [0,4] do not match its shape or the file size");
    st_refused(write_st("twice.safetensors",
                        "{\"\xc2\x9b" "1\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                        "\"\xc2\x9b" "1\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
               "tensor \\xc2\\x9b1 appears twice");
    /* a long name is cut, still escaped */
    char digits[211], header[1200], want[600];
    for (int i = 0; i < 210; i++)
        digits[i] = (char)('0' + i % 10);
    digits[210] = '\0';
    snprintf(header, sizeof header, "{\"%s\x1b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,2]}}",
             digits);
    snprintf(want, sizeof want, "tensor %.156s... has dtype BF16 (only F32, I64)", digits);
    st_refused(write_st("long.safetensors", header, 2), want);
}

/* A state file whose cfg.batch value is a control byte: the mismatch message escapes it. */
static void state_metadata(void **s)
{
    (void)s;
    vbp_net_config nc = {3, 3, 16, 16, 1, 1, NULL};
    vbp_net *net;
    vbp_error e;
    assert_int_equal(vbp_net_create(&nc, 1, &net, &e), VBP_OK);
    vbp_train_config cfg;
    vbp_train_config_default(&cfg);
    vbp_train_state st = {0};
    st.pack_fingerprint = 0x1234;
    st.order = VBP_ORDER_SHUFFLE;
    st.target = VBP_TARGET_BINARY;
    st.target_cut = 64;
    const char *path = in_dir("last.state");
    assert_int_equal(vbp_state_save(path, net, &cfg, &st, &e), VBP_OK);
    size_t n;
    char *b = fx_read_all(path, &n);
    assert_non_null(b);
    char *v = memmem(b, n, "\"cfg.batch\":\"4\"", 15);
    assert_non_null(v);
    v[13] = '\x1b'; /* same length: the header stays valid JSON for this reader */
    assert_int_equal(fx_write_file(path, b, n), 0);
    free(b);
    vbp_train_state got;
    assert_int_equal(vbp_state_load(path, net, &cfg, 0x1234, &got, &e), VBP_E_ARG);
    char want[4400];
    snprintf(want, sizeof want, "%s: written with batch=\\x1b, this run asks for batch=4", path);
    assert_string_equal(e.detail, want);
    vbp_net_free(net);
}

/* The labels CSV quotes the cell or line at fault. */
static void csv_cells(void **s)
{
    (void)s;
    static const struct { const char *text, *want; size_t len; } cases[] = {
        {"Frame,Visibility,X,Y\n0,1\x1b[31m,2,3\n", ":2: Visibility is not a number: '1\\x1b[31m'", 0},
        {"\xef\xbb\xbf" "Frame,Visibility,X,Y\n0,1,2,3\n",
         ":1: header must be 'Frame,Visibility,X,Y': '\\xef\\xbb\\xbfFrame,Visibility,X,Y'", 0},
        {"Frame,Visibility,X,Y\n0,1,2,3\x1f\n", ":2: Y is not a number: '3\\x1f'", 0},
        {"Frame,Visibility,X,Y\n0,1,2,3,\x07\n",
         ":2: extra columns (expected 4: Frame,Visibility,X,Y): '0,1,2,3,\\x07'", 0},
        {"Frame,Visibility,X,Y\n0,1,2,3\n1,2,2,3\n", ":3: Visibility must be 0 or 1: '2'", 0},
        {"Frame,Visibility,X,Y\n7,1,2,3\n", ":2: Frame must be 0 (rows in frame order from 0): '7'", 0},
        {"Frame,Visibility,X,Y\n0,1,5.1e38,2\n", ":2: X does not fit a float: '5.1e38'", 0},
        {"Frame,Visibility,X,Y\n0,1,\0,2\n", ":2: NUL byte in the line: '0,1,\\x00,2'", 29},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text); /* NULs in the file */
        vbp_label *l = NULL;
        size_t n;
        vbp_error e;
        char want[600];
        assert_int_equal(vbp_labels_parse_csv((const uint8_t *)cases[i].text, len, "c.csv", &l, &n, &e),
                         VBP_E_INPUT);
        snprintf(want, sizeof want, "c.csv%s", cases[i].want);
        if (strcmp(e.detail, want))
            fail_msg("case %zu: '%s', want '%s'", i, e.detail, want);
        assert_null(l);
    }
}

/* A pack whose clip names hold control bytes: verify and `vbdump clips` quote them escaped. */
static void pack_clip_names(void **s)
{
    (void)s;
    const char *path = in_dir("names.vbp");
    vbp_writer_opts o = {{4, 8, 1, 1}, VBP_CODEC_RAW, 1};
    vbp_writer *w;
    vbp_error e;
    uint8_t px[32] = {0};
    assert_int_equal(vbp_writer_open(path, &o, &w, &e), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "r\x1b[0m", "g\x1f", VBP_SPLIT_TRAIN, &e), VBP_OK);
    assert_int_equal(vbp_writer_add_frame(w, px, NULL, &e), VBP_OK);
    assert_int_equal(vbp_writer_add_heatmap(w, px, &e), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &e), VBP_OK);
    assert_int_equal(vbp_writer_finish(w, &e), VBP_OK);
    /* damage the frame record (at 4096): verify names the clip, escaped */
    size_t n;
    uint8_t *b = fx_read_all(path, &n);
    b[4096] ^= 1;
    assert_int_equal(fx_write_file(path, b, n), 0);
    free(b);
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &e), VBP_OK);
    assert_int_equal(vbp_pack_verify(p, NULL, NULL, &e), VBP_E_CHECKSUM);
    char want[4400];
    snprintf(want, sizeof want, "%s: offset 4096: clip 'g\\x1f/r\\x1b[0m' frame 0 frame: checksum mismatch",
             path);
    assert_string_equal(e.detail, want);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(vbp_dump_clips(f, p, 0), VBP_OK);
    fclose(f);
    assert_non_null(strstr(text, "\n0     g\\x1f "));
    assert_non_null(strstr(text, " r\\x1b[0m "));
    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\x1f'));
    free(text);
    vbp_pack_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safetensors_header),
        cmocka_unit_test(state_metadata),
        cmocka_unit_test(csv_cells),
        cmocka_unit_test(pack_clip_names),
    };
    return cmocka_run_group_tests(tests, fx_group_setup, fx_group_teardown);
}

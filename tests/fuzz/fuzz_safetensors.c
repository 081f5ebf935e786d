/*
 * fuzz_safetensors.c - libFuzzer target: a byte string opened as a safetensors
 * file (weights are downloaded: untrusted input), every tensor read, then
 * loaded into the network the shipped model is for (VballNetFastV1, gray,
 * seq 3).  An accepted file must keep the reader's promises: tensors inside
 * the file and of their shape's size, names unique.  A refused one gets one
 * error line naming the file, safe to print (names and dtypes from the header
 * quoted escaped).  Seeds: models/vballnet_fastv1_gray_seq3.safetensors and
 * small files of every dtype (fuzz_seeds).
 */
#include <stdint.h>
#include <string.h>
#include "fuzz_common.h"
#include "vbp_net.h"
#include "vbp_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int refused_cleanly(int rc, const vbp_error *err, const char *path)
{
    return rc < 0 && err->code == rc && !strncmp(err->detail, path, strlen(path)) &&
           fuzz_message_ok(err->detail);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vbp_net *net;
    vbp_error err;
    if (!net) {
        const vbp_net_config nc = FUZZ_NET_CONFIG;
        FUZZ_CHECK(vbp_net_create(&nc, 1, &net, &err) == VBP_OK);
    }
    const char *path = fuzz_put(data, size);
    vbp_st_file *f = NULL;
    memset(&err, 0, sizeof err);
    int rc = vbp_safetensors_open(path, &f, &err);
    if (rc != VBP_OK) {
        FUZZ_CHECK(f == NULL && refused_cleanly(rc, &err, path));
        return 0;
    }
    uint64_t total = 0;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < vbp_safetensors_count(f); i++) {
        vbp_st_tensor t, again;
        FUZZ_CHECK(vbp_safetensors_get(f, i, &t) == VBP_OK);
        FUZZ_CHECK(t.ndim <= VBP_ST_MAX_DIMS && (t.dtype == VBP_ST_F32 || t.dtype == VBP_ST_I64));
        uint64_t bytes = vbp_st_numel(&t) * vbp_st_dtype_size(t.dtype);
        FUZZ_CHECK(bytes <= size);
        const uint8_t *d = t.data;
        for (uint64_t k = 0; k < bytes; k++) /* ASan: every byte inside the file's copy */
            sink ^= d[k];
        total += bytes;
        FUZZ_CHECK(vbp_safetensors_find(f, t.name, &again) == VBP_OK && again.data == t.data);
    }
    (void)sink;
    FUZZ_CHECK(total <= size);
    FUZZ_CHECK(vbp_safetensors_get(f, vbp_safetensors_count(f), NULL) == VBP_E_ARG);
    vbp_safetensors_close(f);
    rc = vbp_net_load_safetensors(net, path, &err);
    FUZZ_CHECK(rc == VBP_OK || refused_cleanly(rc, &err, path));
    /* What eval, predict and export read first: the architecture and its channels. */
    vbp_net_config wc = FUZZ_NET_CONFIG;
    rc = vbp_net_weights_config(path, &wc, &err);
    FUZZ_CHECK((rc == VBP_OK && wc.model && wc.in_channels >= 1 && wc.in_channels <= 4096 &&
                wc.out_channels >= 1 && wc.out_channels <= 4096) ||
               refused_cleanly(rc, &err, path));
    return 0;
}

/*
 * fuzz_state.c - libFuzzer target: a byte string read as vbtrain's state file
 * (RUN/last.state, a safetensors file: docs/training.md, "State file") by
 * vbp_state_load, as `vbtrain train --resume` does, for the net and pack the
 * seed was written for (fuzz_common.h).  Refused input: one error line naming
 * the file, safe to print (metadata values from the file quoted escaped).
 * Accepted input: a position a run can continue from.  Seed: a state written
 * by vbp_state_save (fuzz_seeds), what vbtrain writes.
 */
#include <stdint.h>
#include <string.h>
#include "fuzz_common.h"
#include "train_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vbp_net *net;
    static vbp_train_config cfg;
    vbp_error err;
    if (!net) {
        const vbp_net_config nc = FUZZ_NET_CONFIG;
        FUZZ_CHECK(vbp_net_create(&nc, 1, &net, &err) == VBP_OK);
        vbp_train_config_default(&cfg);
    }
    const char *path = fuzz_put(data, size);
    vbp_train_state st;
    memset(&err, 0, sizeof err);
    int rc = vbp_state_load(path, net, &cfg, FUZZ_FINGERPRINT, &st, &err);
    if (rc != VBP_OK) {
        FUZZ_CHECK(rc < 0 && err.code == rc && !strncmp(err.detail, path, strlen(path)));
        FUZZ_CHECK(fuzz_message_ok(err.detail));
        return 0;
    }
    FUZZ_CHECK(st.pack_fingerprint == FUZZ_FINGERPRINT);
    FUZZ_CHECK(st.order != VBP_ORDER_AUTO && st.target != VBP_TARGET_AUTO);
    FUZZ_CHECK(st.target_cut >= 1 && st.target_cut <= 255);
    return 0;
}

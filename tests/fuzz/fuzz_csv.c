/*
 * fuzz_csv.c - libFuzzer target: the labels CSV parser on arbitrary bytes.
 * Accepted input must give one label per data row, visibility 0 or 1 and
 * finite coordinates ((-1, -1) when hidden); refused input one error line
 * naming the file, safe to print (the cells it quotes escaped).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fuzz_common.h"
#include "labels_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vbp_label *labels = NULL;
    size_t n = 0;
    vbp_error err;
    memset(&err, 0, sizeof err);
    int rc = vbp_labels_parse_csv(data, size, "fuzz.csv", &labels, &n, &err);
    if (rc != VBP_OK) {
        FUZZ_CHECK(rc < 0 && err.code == rc && !strncmp(err.detail, "fuzz.csv", 8));
        FUZZ_CHECK(!memchr(err.detail, '\n', strlen(err.detail)));
        FUZZ_CHECK(fuzz_message_ok(err.detail)); /* cells quoted escaped */
        return 0;
    }
    FUZZ_CHECK(n == 0 || labels);
    FUZZ_CHECK(size >= 20 && !memcmp(data, "Frame,Visibility,X,Y", 20));
    for (size_t i = 0; i < n; i++) {
        const vbp_label *l = &labels[i];
        FUZZ_CHECK(l->visibility == 0 || l->visibility == 1);
        FUZZ_CHECK(isfinite(l->x) && isfinite(l->y));
        if (!l->visibility)
            FUZZ_CHECK(l->x == -1.0f && l->y == -1.0f);
    }
    free(labels);
    return 0;
}

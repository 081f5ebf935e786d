/*
 * fuzz_pack.c - libFuzzer target: any bytes as a pack file.  Opening must
 * fail cleanly or yield a pack whose every record can be located, verified
 * and decoded without touching memory outside the mapping.
 * Build: meson setup build-fuzz -Dfuzz=true (clang); run: build-fuzz/tests/fuzz_pack
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vbp_pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.vbp", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    vbp_pack *p;
    vbp_error err;
    if (vbp_pack_open(path, &p, &err) == VBP_OK) {
        const vbp_pack_info *in = vbp_pack_get_info(p);
        size_t n = (size_t)in->geometry.frame_channels * in->geometry.height * in->geometry.width;
        uint8_t *buf = malloc(n);
        vbp_pack_verify(p, NULL, NULL, &err);
        for (uint64_t f = 0; f < in->frame_count && buf; f++)
            for (int k = 0; k < 2; k++) {
                vbp_record r;
                if (vbp_pack_record(p, f, (vbp_record_kind)k, &r) != VBP_OK)
                    abort();
                vbp_record_decode(&r, buf, n, &err);
            }
        free(buf);
        vbp_pack_close(p);
    }
    close(fd);
    return 0;
}

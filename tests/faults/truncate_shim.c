/*
 * truncate_shim.c - LD_PRELOAD helper for truncate_under_reader.sh: makes
 * "the pack is truncated by another process while we read it" happen at a
 * chosen moment.  It wraps XXH3_64bits (each record vbdump verify checks)
 * and LZ4_decompress_safe (each lz4 record a loader decodes); on the
 * VBP_SHIM_AT-th call of either, once that call has returned, it truncates
 * VBP_SHIM_PATH to VBP_SHIM_SIZE bytes.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

uint64_t XXH3_64bits(const void *data, size_t len);
int LZ4_decompress_safe(const char *src, char *dst, int src_size, int dst_capacity);

static void count_call(void)
{
    static long calls;
    const char *at = getenv("VBP_SHIM_AT"), *path = getenv("VBP_SHIM_PATH");
    const char *size = getenv("VBP_SHIM_SIZE");
    if (at && path && size && __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) == atol(at)) {
        if (truncate(path, (off_t)atoll(size)) != 0)
            _exit(97);
    }
}

uint64_t XXH3_64bits(const void *data, size_t len)
{
    static uint64_t (*real)(const void *, size_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "XXH3_64bits");
    uint64_t h = real(data, len);
    count_call();
    return h;
}

int LZ4_decompress_safe(const char *src, char *dst, int src_size, int dst_capacity)
{
    static int (*real)(const char *, char *, int, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "LZ4_decompress_safe");
    int n = real(src, dst, src_size, dst_capacity);
    count_call();
    return n;
}

/*
 * memreport.c - measured memory facts: pages of a mapping resident in the
 * page cache (mincore), this process's share of them (/proc/self/smaps),
 * process RSS and peak (/proc/self/status), and what the process may still
 * use (vbp_memlimit_read: MemAvailable, the cgroup, the rlimits).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"
#include "loader_internal.h"

/* Value in kB of the line "key: N kB" of a /proc file, scanning from the
 * current position; returns 0 and leaves *out when absent. */
static int proc_kb(FILE *f, const char *key, uint64_t *out)
{
    char line[256];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            *out = strtoull(line + klen + 1, NULL, 10) * 1024;
            return 1;
        }
    }
    return 0;
}

/* Pages of [map, map+len) resident in the page cache. */
static int resident_bytes(const void *map, size_t len, uint64_t *out, vbp_error *err)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (len + page - 1) / page;
    *out = 0;
    if (!pages)
        return VBP_OK;
    unsigned char *vec = malloc(pages);
    if (!vec)
        return vbp_fail(err, VBP_E_NOMEM, "mincore: no memory for %zu pages", pages);
    if (mincore((void *)map, len, vec)) {
        int e = errno;
        free(vec);
        return vbp_fail(err, VBP_E_IO, "mincore: %s", strerror(e));
    }
    uint64_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    free(vec);
    *out = n * page;
    if (*out > len)
        *out = len;
    return VBP_OK;
}

/* Rss and Pss of the mapping that starts at `map`, from /proc/self/smaps. */
static void mapping_share(const void *map, uint64_t *rss, uint64_t *pss)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    *rss = *pss = 0;
    if (!f)
        return;
    uintptr_t want = (uintptr_t)map;
    while (fgets(line, sizeof line, f)) {
        char *dash = strchr(line, '-');
        if (!dash || !strchr(line, ' ') || dash > strchr(line, ' '))
            continue;
        if ((uintptr_t)strtoull(line, NULL, 16) != want)
            continue;
        /* Rss precedes Pss in every kernel's smaps. */
        proc_kb(f, "Rss", rss);
        proc_kb(f, "Pss", pss);
        break;
    }
    fclose(f);
}

int vbp_memreport_measure(const void *map, size_t len, vbp_memreport *out, vbp_error *err)
{
    memset(out, 0, sizeof *out);
    out->pack_bytes = len;
    int rc = resident_bytes(map, len, &out->resident_bytes, err);
    if (rc)
        return rc;
    mapping_share(map, &out->mapped_rss_bytes, &out->mapped_pss_bytes);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return vbp_fail(err, VBP_E_IO, "/proc/self/status: %s", strerror(errno));
    proc_kb(f, "VmHWM", &out->peak_rss_bytes);
    proc_kb(f, "VmRSS", &out->rss_bytes);
    proc_kb(f, "RssAnon", &out->anon_rss_bytes);
    fclose(f);
    vbp_memlimit_read(NULL, &out->limit);
    out->mem_available_bytes = out->limit.of[VBP_MEMLIMIT_MEMINFO].free;
    return VBP_OK;
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

size_t vbp_memreport_format(const vbp_memreport *m, char *buf, size_t size)
{
    char limit[400], src[340];
    vbp_memlimit_describe(&m->limit, m->limit.source, src, sizeof src);
    if (m->limit.source == VBP_MEMLIMIT_NONE)
        snprintf(limit, sizeof limit, "%s", src);
    else
        snprintf(limit, sizeof limit, "%10.1f MiB (%s)", mib(m->limit.bytes), src);
    int n = snprintf(buf, size,
        "pack            %10.1f MiB (selected records %.1f MiB)\n"
        "page cache      %10.1f MiB of the pack resident (mincore), %.1f MiB mapped here,"
        " this process's share %.1f MiB\n"
        "locked          %10.1f MiB\n"
        "process RSS     %10.1f MiB (peak %.1f MiB; anonymous %.1f MiB, the rest file-backed: pack, libraries)\n"
        "as float32      %10.1f MiB frames+heatmaps once, %.1f MiB per window;"
        " the pack saves %.1f MiB (%.0f%%)\n"
        "MemAvailable    %10.1f MiB\n"
        "may still use   %s\n",
        mib(m->pack_bytes), mib(m->data_bytes), mib(m->resident_bytes),
        mib(m->mapped_rss_bytes), mib(m->mapped_pss_bytes), mib(m->locked_bytes),
        mib(m->rss_bytes), mib(m->peak_rss_bytes), mib(m->anon_rss_bytes), mib(m->float32_bytes),
        mib(m->float32_window_bytes), mib(m->saving_bytes),
        m->float32_bytes ? 100.0 * (double)m->saving_bytes / (double)m->float32_bytes : 0.0,
        mib(m->mem_available_bytes), limit);
    return n < 0 ? 0 : (size_t)n;
}

/*
 * vbp_memlimit.h - how much memory this process may still use, and which
 * limit says so.
 *
 * Inside a container or a cluster job the limit is a cgroup's, not the
 * machine's, and /proc/meminfo still shows the whole machine.  Each source
 * below gives a headroom (free = limit - used); the smallest applies:
 *
 *   MEMINFO      MemAvailable of /proc/meminfo (of MemTotal)
 *   CGROUP2      memory.max - (memory.current - inactive_file of memory.stat)
 *   CGROUP1      memory.limit_in_bytes - (memory.usage_in_bytes - total_inactive_file)
 *   RLIMIT_AS    the soft limit - VmSize (/proc/self/limits, /proc/self/status)
 *   RLIMIT_DATA  the soft limit - VmData
 *
 * The cgroup is the process's own (/proc/self/cgroup) and every ancestor up
 * to where its hierarchy is mounted (/proc/self/mountinfo): a parent's limit
 * binds its children (a Slurm job's limit sits above its steps and tasks),
 * and the level with the least headroom is the one reported.  Inactive file
 * pages are page cache that the kernel reclaims before the cgroup reaches its
 * limit, so they count as free (the "working set" of docker stats and the
 * kubelet).  A limit of "max" (v2) or >= 2^60 (v1's "unlimited") is none.
 *
 * Page cache is charged to MemAvailable and to the cgroup, not to the
 * address-space limits (and a mapped file already counts in VmSize when it
 * is mapped): `cache_bytes` is the smallest of the first three, what the
 * pages of a mapped pack may still fill; `bytes`, the smallest of all five,
 * is what the process may still allocate.
 */
#ifndef VBP_MEMLIMIT_H
#define VBP_MEMLIMIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vbp_memlimit_source {
    VBP_MEMLIMIT_NONE = 0,        /* nothing could be read: the figure is UINT64_MAX */
    VBP_MEMLIMIT_MEMINFO = 1,
    VBP_MEMLIMIT_CGROUP2 = 2,
    VBP_MEMLIMIT_CGROUP1 = 3,
    VBP_MEMLIMIT_RLIMIT_AS = 4,
    VBP_MEMLIMIT_RLIMIT_DATA = 5,
    VBP_MEMLIMIT_CALLER = 6,      /* a figure the caller set (vbp_loader_opts.memory_limit) */
    VBP_MEMLIMIT_SOURCES = 7
} vbp_memlimit_source;

typedef struct vbp_memlimit_entry {
    int set;          /* 1: this source was read and sets a limit */
    uint64_t limit;   /* bytes (MemTotal for MEMINFO) */
    uint64_t used;    /* bytes counted against it (reclaimable page cache excluded) */
    uint64_t free;    /* limit - used, 0 when used exceeds it */
} vbp_memlimit_entry;

typedef struct vbp_memlimit {
    uint64_t bytes;                   /* what this process may still allocate: least free */
    vbp_memlimit_source source;       /* the source of `bytes` */
    uint64_t cache_bytes;             /* least free of MEMINFO and the cgroups: what pages of
                                         a mapped file may still fill */
    vbp_memlimit_source cache_source;
    vbp_memlimit_entry of[VBP_MEMLIMIT_SOURCES]; /* each source, indexed by vbp_memlimit_source */
    char cgroup_dir[512];             /* the cgroup directory of of[CGROUP1 or CGROUP2] */
} vbp_memlimit;

/*
 * Read every source for this process.  root prefixes every /proc and /sys
 * path ("" or NULL: the live system; a directory of recorded files for a
 * test: ROOT/proc/self/cgroup, ROOT/sys/fs/cgroup/...).  Never fails: a file
 * that cannot be read leaves its source unset.  Returns out->bytes.
 */
uint64_t vbp_memlimit_read(const char *root, vbp_memlimit *out);

/* "MemAvailable", "cgroup v2 memory.max", "cgroup v1 memory.limit_in_bytes", "RLIMIT_AS",
 * "RLIMIT_DATA", "memory_limit set by the caller", "no limit found". */
const char *vbp_memlimit_source_name(vbp_memlimit_source s);

/*
 * Source s of m in a few words, into buf (NUL-terminated when size > 0),
 * e.g. "cgroup v1 memory.limit_in_bytes 400.0 MiB of /sys/fs/cgroup/memory/job,
 * 12.5 MiB in use" or "MemAvailable of 23540.1 MiB".  Returns the length it
 * needed, like snprintf.
 */
size_t vbp_memlimit_describe(const vbp_memlimit *m, vbp_memlimit_source s, char *buf, size_t size);

/*
 * Room to keep free of a headroom of `bytes`: a sixteenth, at least 16 MiB.
 * Work planned against a limit (a trainer's buffers, a locked pack) leaves
 * this much for what nobody counts: thread stacks, libraries, checkpoint
 * writes, the disk mode's pages in flight.
 */
uint64_t vbp_memlimit_spare(uint64_t bytes);

#ifdef __cplusplus
}
#endif
#endif

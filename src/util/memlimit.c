/*
 * memlimit.c - the memory this process may still use (vbp_memlimit.h):
 * MemAvailable, the memory cgroup (v1 or v2) of the process and its
 * ancestors, RLIMIT_AS and RLIMIT_DATA, all read from files under a root
 * prefix so that tests can feed recorded /proc and /sys trees.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vbp_memlimit.h"

#define PATH_MAX_LEN 1024
#define UNLIMITED (1ull << 60) /* v1 writes "no limit" as 2^63 - 4096 */

/* The whole file (up to size - 1 bytes) into buf, NUL-terminated; -1 when unreadable. */
static long slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (long)n;
}

/*
 * Value of the line "KEY N", "KEY: N" or "KEY: N kB" (kB scaled to bytes)
 * in text; 1 when found.
 */
static int keyed(const char *text, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, klen) || (l[klen] != ' ' && l[klen] != ':' && l[klen] != '\t'))
            continue;
        const char *p = l + klen + (l[klen] == ':');
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno)
            return 0;
        while (*end == ' ' || *end == '\t')
            end++;
        *out = (uint64_t)v * (strncmp(end, "kB", 2) ? 1 : 1024);
        return 1;
    }
    return 0;
}

/* A cgroup file holding one number or "max"; *out = UINT64_MAX for "max". 1 when read. */
static int number_file(const char *path, uint64_t *out)
{
    char buf[64];
    if (slurp(path, buf, sizeof buf) <= 0)
        return 0;
    if (!strncmp(buf, "max", 3)) {
        *out = UINT64_MAX;
        return 1;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || errno)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static void set_entry(vbp_memlimit_entry *e, uint64_t limit, uint64_t used)
{
    e->set = 1;
    e->limit = limit;
    e->used = used;
    e->free = limit > used ? limit - used : 0;
}

static void read_meminfo(const char *root, vbp_memlimit *m)
{
    char path[PATH_MAX_LEN], buf[8192];
    uint64_t total = 0, avail;
    snprintf(path, sizeof path, "%s/proc/meminfo", root);
    if (slurp(path, buf, sizeof buf) <= 0 || !keyed(buf, "MemAvailable", &avail))
        return;
    if (!keyed(buf, "MemTotal", &total) || total < avail)
        total = avail;
    set_entry(&m->of[VBP_MEMLIMIT_MEMINFO], total, total - avail);
}

/* The soft limit of the /proc/self/limits line starting with `name`; 0 when unlimited. */
static uint64_t soft_limit(const char *limits, const char *name)
{
    const char *l = strstr(limits, name);
    if (!l)
        return 0;
    const char *p = l + strlen(name);
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9') /* "unlimited" */
        return 0;
    return (uint64_t)strtoull(p, NULL, 10);
}

static void read_rlimits(const char *root, vbp_memlimit *m)
{
    char path[PATH_MAX_LEN], limits[4096], status[4096];
    snprintf(path, sizeof path, "%s/proc/self/limits", root);
    if (slurp(path, limits, sizeof limits) <= 0)
        return;
    snprintf(path, sizeof path, "%s/proc/self/status", root);
    if (slurp(path, status, sizeof status) <= 0)
        status[0] = '\0';
    uint64_t as = soft_limit(limits, "Max address space"), data = soft_limit(limits, "Max data size");
    uint64_t vm = 0, vmdata = 0;
    keyed(status, "VmSize", &vm);
    keyed(status, "VmData", &vmdata);
    if (as)
        set_entry(&m->of[VBP_MEMLIMIT_RLIMIT_AS], as, vm);
    if (data)
        set_entry(&m->of[VBP_MEMLIMIT_RLIMIT_DATA], data, vmdata);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo: undo it in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* 1 when the comma-separated list has the item. */
static int has_item(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (!strncmp(p, item, n) && (p[n] == ',' || p[n] == '\0' || p[n] == '\n'))
            return 1;
    return 0;
}

/* Call match on each line of ROOT/FILE until it returns 1; 1 when one did. */
static int scan_lines(const char *root, const char *file, int (*match)(char *line, void *ctx),
                      void *ctx)
{
    char path[PATH_MAX_LEN], line[4096];
    snprintf(path, sizeof path, "%s%s", root, file);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = match(line, ctx);
    fclose(f);
    return found;
}

/* What find_mount and find_cgroup look for, and where they put it. */
typedef struct cg_query {
    int version;           /* 1: the hierarchy with the memory controller; 2: cgroup2 */
    char mroot[1024];      /* mountinfo: the mount's root inside the hierarchy */
    char mpoint[1024];     /* mountinfo: its mount point */
    char path[1024];       /* /proc/self/cgroup: the process's path in the hierarchy */
} cg_query;

/* A /proc/self/mountinfo line of the hierarchy: its root and mount point into q. */
static int match_mount(char *line, void *ctx)
{
    cg_query *q = ctx;
    /* id parent major:minor root mount-point options [optional...] - fstype source super */
    char *sep = strstr(line, " - ");
    if (!sep)
        return 0;
    *sep = '\0';
    char fstype[64] = "", super[1024] = "";
    if (sscanf(sep + 3, "%63s %*s %1023s", fstype, super) < 1 ||
        sscanf(line, "%*s %*s %*s %1023s %1023s", q->mroot, q->mpoint) != 2)
        return 0;
    if (q->version == 2 ? strcmp(fstype, "cgroup2") != 0
                        : strcmp(fstype, "cgroup") != 0 || !has_item(super, "memory"))
        return 0;
    unescape(q->mroot);
    unescape(q->mpoint);
    return 1;
}

/* A /proc/self/cgroup line (hierarchy-id:controller-list:path) of the hierarchy: its path. */
static int match_cgroup(char *line, void *ctx)
{
    cg_query *q = ctx;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
        return 0;
    *c1 = *c2 = '\0';
    if (q->version == 2 ? strcmp(line, "0") || c1 + 1 != c2 : !has_item(c1 + 1, "memory"))
        return 0;
    char *p = c2 + 1;
    p[strcspn(p, "\n")] = '\0';
    if (strlen(p) >= sizeof q->path)
        return 0;
    strcpy(q->path, p);
    return 1;
}

/*
 * Free memory of one cgroup directory: limit - (usage - inactive file
 * pages).  0 when it sets no limit (files missing, "max", v1 unlimited).
 */
static int cgroup_level(const char *dir, int version, uint64_t *limit, uint64_t *used)
{
    char path[PATH_MAX_LEN + 32], stat[8192];
    uint64_t usage, inactive = 0;
    snprintf(path, sizeof path, "%s/%s", dir, version == 2 ? "memory.max" : "memory.limit_in_bytes");
    if (!number_file(path, limit) || *limit >= UNLIMITED)
        return 0;
    snprintf(path, sizeof path, "%s/%s", dir, version == 2 ? "memory.current" : "memory.usage_in_bytes");
    if (!number_file(path, &usage))
        return 0;
    snprintf(path, sizeof path, "%s/memory.stat", dir);
    if (slurp(path, stat, sizeof stat) > 0 &&
        !(version == 1 && keyed(stat, "total_inactive_file", &inactive)))
        keyed(stat, "inactive_file", &inactive);
    *used = usage > inactive ? usage - inactive : 0;
    return 1;
}

/* The cgroup of `version` and its ancestors up to the mount point: the level with least free. */
static void read_cgroup(const char *root, int version, vbp_memlimit *m)
{
    cg_query q = { .version = version };
    if (!scan_lines(root, "/proc/self/mountinfo", match_mount, &q) ||
        !scan_lines(root, "/proc/self/cgroup", match_cgroup, &q))
        return;
    const char *mroot = q.mroot, *mpoint = q.mpoint, *cg = q.path;
    char dir[PATH_MAX_LEN];
    /* The process's path relative to the mount: the mount's root is a prefix of it, unless a
     * cgroup namespace hides the rest (then the mount point is the process's own cgroup). */
    size_t rl = strlen(mroot);
    const char *rel = "";
    if (!strcmp(mroot, "/"))
        rel = cg;
    else if (!strncmp(cg, mroot, rl) && (cg[rl] == '/' || cg[rl] == '\0'))
        rel = cg + rl;
    int n = snprintf(dir, sizeof dir, "%s%s%s", root, mpoint, rel);
    if (n < 0 || (size_t)n >= sizeof dir)
        return;
    size_t top = strlen(root) + strlen(mpoint);
    while (strlen(dir) > top && dir[strlen(dir) - 1] == '/')
        dir[strlen(dir) - 1] = '\0';
    vbp_memlimit_entry *e = &m->of[version == 2 ? VBP_MEMLIMIT_CGROUP2 : VBP_MEMLIMIT_CGROUP1];
    for (;;) {
        uint64_t limit, used;
        if (cgroup_level(dir, version, &limit, &used)) {
            uint64_t free = limit > used ? limit - used : 0;
            if (!e->set || free < e->free) {
                set_entry(e, limit, used);
                snprintf(m->cgroup_dir, sizeof m->cgroup_dir, "%s", dir);
            }
        }
        char *slash = strrchr(dir, '/');
        if (strlen(dir) <= top || !slash || (size_t)(slash - dir) < top)
            break;
        *slash = '\0';
    }
}

uint64_t vbp_memlimit_read(const char *root, vbp_memlimit *out)
{
    memset(out, 0, sizeof *out);
    if (!root)
        root = "";
    read_meminfo(root, out);
    read_cgroup(root, 2, out);
    read_cgroup(root, 1, out);
    read_rlimits(root, out);
    out->bytes = out->cache_bytes = UINT64_MAX;
    for (int s = VBP_MEMLIMIT_MEMINFO; s <= VBP_MEMLIMIT_RLIMIT_DATA; s++) {
        const vbp_memlimit_entry *e = &out->of[s];
        if (!e->set)
            continue;
        if (e->free < out->bytes || out->source == VBP_MEMLIMIT_NONE) {
            out->bytes = e->free;
            out->source = (vbp_memlimit_source)s;
        }
        if (s <= VBP_MEMLIMIT_CGROUP1 &&
            (e->free < out->cache_bytes || out->cache_source == VBP_MEMLIMIT_NONE)) {
            out->cache_bytes = e->free;
            out->cache_source = (vbp_memlimit_source)s;
        }
    }
    return out->bytes;
}

const char *vbp_memlimit_source_name(vbp_memlimit_source s)
{
    static const char *const names[VBP_MEMLIMIT_SOURCES] = {
        "no limit found", "MemAvailable", "cgroup v2 memory.max", "cgroup v1 memory.limit_in_bytes",
        "RLIMIT_AS", "RLIMIT_DATA", "memory_limit set by the caller"
    };
    return (unsigned)s < VBP_MEMLIMIT_SOURCES ? names[s] : "?";
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

size_t vbp_memlimit_describe(const vbp_memlimit *m, vbp_memlimit_source s, char *buf, size_t size)
{
    const vbp_memlimit_entry *e = (unsigned)s < VBP_MEMLIMIT_SOURCES ? &m->of[s] : NULL;
    const char *name = vbp_memlimit_source_name(s);
    int n;
    if (!e || !e->set || s == VBP_MEMLIMIT_CALLER)
        n = snprintf(buf, size, "%s", name);
    else if (s == VBP_MEMLIMIT_MEMINFO)
        n = snprintf(buf, size, "%s of %.1f MiB", name, mib(e->limit));
    else if (s == VBP_MEMLIMIT_CGROUP1 || s == VBP_MEMLIMIT_CGROUP2)
        n = snprintf(buf, size, "%s %.1f MiB of %s, %.1f MiB in use", name, mib(e->limit),
                     m->cgroup_dir, mib(e->used));
    else
        n = snprintf(buf, size, "%s %.1f MiB, %s %.1f MiB", name, mib(e->limit),
                     s == VBP_MEMLIMIT_RLIMIT_AS ? "VmSize" : "VmData", mib(e->used));
    return n < 0 ? 0 : (size_t)n;
}

uint64_t vbp_memlimit_spare(uint64_t bytes)
{
    uint64_t s = bytes / 16;
    return s < (16ull << 20) ? 16ull << 20 : s;
}

/*
 * test_memlimit.c - vbp_memlimit_read on /proc and /sys trees under
 * tests/memlimit/ (one directory per case, read with that root prefix):
 *   v1_host           recorded on the project's Debian 12 machine (cgroup v1 mounted at
 *                     /sys/fs/cgroup/memory): a process in a 128 MiB memory cgroup with
 *                     48 MiB of anonymous memory and 16 MiB of page cache it wrote
 *   v1_slurm          a Slurm task whose job's limit, two levels up, is the tightest
 *   v1_docker         a container without a cgroup namespace: the hierarchy is mounted
 *                     at the container's own cgroup, and nothing above it is read
 *   v2_container      cgroup v2 with a cgroup namespace ("0::/"), Docker's and Kubernetes' default
 *   v2_nested_rlimit  a pod on a cgroup v2 host (mount point with a space, \040 in
 *                     mountinfo), the container's limit under a looser parent, and a
 *                     tighter RLIMIT_AS (ulimit -v)
 * The last four are written by hand in the kernel's formats (cgroup-v1/v2 docs, proc(5)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "vbp_memlimit.h"

static const char *root_of(const char *name)
{
    static char buf[4096];
    const char *src = getenv("VBP_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/tests/memlimit/%s", src ? src : ".", name);
    return buf;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

static void expect_entry(const vbp_memlimit_entry *e, uint64_t limit, uint64_t used)
{
    assert_true(e->set);
    assert_int_equal(e->limit, limit);
    assert_int_equal(e->used, used);
    assert_int_equal(e->free, limit - used);
}

/* Recorded: usage 72335360 of 134217728, of which 16797696 inactive page cache. */
static void v1_recorded_limit_counts_page_cache_as_free(void **state)
{
    (void)state;
    vbp_memlimit m;
    assert_int_equal(vbp_memlimit_read(root_of("v1_host"), &m), 134217728 - (72335360 - 16797696));
    assert_int_equal(m.source, VBP_MEMLIMIT_CGROUP1);
    expect_entry(&m.of[VBP_MEMLIMIT_CGROUP1], 134217728, 72335360 - 16797696);
    assert_true(ends_with(m.cgroup_dir,
                          "/sys/fs/cgroup/memory/process_api/77cfdddfea0693792f30b04fdd444330/vbp-rec"));
    assert_true(m.of[VBP_MEMLIMIT_MEMINFO].set);
    assert_int_equal(m.of[VBP_MEMLIMIT_MEMINFO].free, 22829964ull * 1024);
    assert_false(m.of[VBP_MEMLIMIT_CGROUP2].set); /* the unified hierarchy has no memory files */
    assert_false(m.of[VBP_MEMLIMIT_RLIMIT_AS].set);
    assert_false(m.of[VBP_MEMLIMIT_RLIMIT_DATA].set);
    assert_int_equal(m.cache_bytes, m.bytes);
    assert_int_equal(m.cache_source, VBP_MEMLIMIT_CGROUP1);
}

static void v1_ancestor_limit_binds(void **state)
{
    (void)state;
    vbp_memlimit m;
    vbp_memlimit_read(root_of("v1_slurm"), &m);
    assert_int_equal(m.source, VBP_MEMLIMIT_CGROUP1);
    /* job_42: 4 GiB, 3.5 GiB charged of which 256 MiB inactive file pages */
    expect_entry(&m.of[VBP_MEMLIMIT_CGROUP1], 4294967296ull, 3758096384ull - 268435456ull);
    assert_int_equal(m.bytes, 805306368ull);
    assert_true(ends_with(m.cgroup_dir, "/sys/fs/cgroup/memory/slurm/uid_1000/job_42"));
    char text[512];
    size_t n = vbp_memlimit_describe(&m, m.source, text, sizeof text);
    assert_true(n > 0 && n < sizeof text);
    assert_non_null(strstr(text, "cgroup v1 memory.limit_in_bytes 4096.0 MiB of "));
    assert_non_null(strstr(text, "job_42, 3328.0 MiB in use"));
}

static void v1_mount_at_own_cgroup_reads_nothing_above(void **state)
{
    (void)state;
    vbp_memlimit m;
    const char *root = root_of("v1_docker");
    vbp_memlimit_read(root, &m);
    assert_int_equal(m.source, VBP_MEMLIMIT_CGROUP1);
    expect_entry(&m.of[VBP_MEMLIMIT_CGROUP1], 536870912, 134217728 - 33554432);
    char want[4200];
    snprintf(want, sizeof want, "%s/sys/fs/cgroup/memory", root);
    assert_string_equal(m.cgroup_dir, want);
}

static void v2_namespace_root(void **state)
{
    (void)state;
    vbp_memlimit m;
    const char *root = root_of("v2_container");
    assert_int_equal(vbp_memlimit_read(root, &m), 268435456 - 41943040);
    assert_int_equal(m.source, VBP_MEMLIMIT_CGROUP2);
    expect_entry(&m.of[VBP_MEMLIMIT_CGROUP2], 268435456, 104857600 - 62914560);
    assert_false(m.of[VBP_MEMLIMIT_CGROUP1].set);
    char want[4200];
    snprintf(want, sizeof want, "%s/sys/fs/cgroup", root);
    assert_string_equal(m.cgroup_dir, want);
}

/* The container's 1 GiB under a 20 GiB parent and a "max" one; RLIMIT_AS 1 GiB with 900 MiB
 * of address space mapped: allocations are bound by RLIMIT_AS, page cache by the cgroup. */
static void v2_nested_and_rlimits(void **state)
{
    (void)state;
    vbp_memlimit m;
    vbp_memlimit_read(root_of("v2_nested_rlimit"), &m);
    expect_entry(&m.of[VBP_MEMLIMIT_CGROUP2], 1073741824, 943718400 - 104857600);
    assert_true(ends_with(m.cgroup_dir,
                          "/mnt/cgroup v2/kubepods.slice/kubepods-burstable.slice/cri-containerd-9f.scope"));
    expect_entry(&m.of[VBP_MEMLIMIT_RLIMIT_AS], 1073741824, 921600ull * 1024);
    expect_entry(&m.of[VBP_MEMLIMIT_RLIMIT_DATA], 2147483648ull, 512000ull * 1024);
    assert_int_equal(m.source, VBP_MEMLIMIT_RLIMIT_AS);
    assert_int_equal(m.bytes, 1073741824 - 921600ull * 1024);
    assert_int_equal(m.cache_source, VBP_MEMLIMIT_CGROUP2);
    assert_int_equal(m.cache_bytes, 1073741824 - (943718400 - 104857600));
    char text[512];
    vbp_memlimit_describe(&m, m.source, text, sizeof text);
    assert_string_equal(text, "RLIMIT_AS 1024.0 MiB, VmSize 900.0 MiB");
}

static void nothing_readable_is_no_limit(void **state)
{
    (void)state;
    vbp_memlimit m;
    assert_int_equal(vbp_memlimit_read("/nonexistent-vbp-root", &m), UINT64_MAX);
    assert_int_equal(m.source, VBP_MEMLIMIT_NONE);
    assert_int_equal(m.cache_bytes, UINT64_MAX);
    assert_string_equal(vbp_memlimit_source_name(m.source), "no limit found");
}

/* This process: MemAvailable is always there, and nothing reports more than it. */
static void live_system(void **state)
{
    (void)state;
    vbp_memlimit m;
    uint64_t b = vbp_memlimit_read(NULL, &m);
    assert_true(m.of[VBP_MEMLIMIT_MEMINFO].set);
    assert_true(b <= m.of[VBP_MEMLIMIT_MEMINFO].free && b > 0);
    assert_true(m.cache_bytes >= b);
    assert_int_not_equal(m.source, VBP_MEMLIMIT_NONE);
}

static void spare_is_a_sixteenth_at_least_16_mib(void **state)
{
    (void)state;
    assert_int_equal(vbp_memlimit_spare(0), 16ull << 20);
    assert_int_equal(vbp_memlimit_spare(128ull << 20), 16ull << 20);
    assert_int_equal(vbp_memlimit_spare(1ull << 30), 64ull << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_recorded_limit_counts_page_cache_as_free),
        cmocka_unit_test(v1_ancestor_limit_binds),
        cmocka_unit_test(v1_mount_at_own_cgroup_reads_nothing_above),
        cmocka_unit_test(v2_namespace_root),
        cmocka_unit_test(v2_nested_and_rlimits),
        cmocka_unit_test(nothing_readable_is_no_limit),
        cmocka_unit_test(live_system),
        cmocka_unit_test(spare_is_a_sixteenth_at_least_16_mib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

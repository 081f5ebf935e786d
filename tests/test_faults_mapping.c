/*
 * test_faults_mapping.c - a pack truncated under a running reader: an error
 * naming the pack, never a SIGBUS crash.
 *
 * vbp_pack_check_unchanged and vbp_pack_verify's use of it are tested in
 * process.  The guard (include/vbp_guard.h) is tested in forked children
 * that truncate their own pack and then read past the new end, the way a
 * race with another process would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "pack_fixture.h"
#include "vbp_guard.h"
#include "vbp_loader.h"

static char *dir;
static char path[4096];

static int setup(void **state)
{
    (void)state;
    if (!(dir = fix_tmpdir()))
        return -1;
    snprintf(path, sizeof path, "%s/t.vbp", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fix_rmdir(dir);
    return 0;
}

static void fresh_pack(void)
{
    vbp_error err;
    assert_int_equal(fix_write(path, VBP_CODEC_RAW, 3, 1, &err), VBP_OK);
}

static void check_unchanged_sees_truncation_and_rewrites(void **s)
{
    (void)s;
    fresh_pack();
    vbp_error err;
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_check_unchanged(p, &err), VBP_OK);
    size_t size;
    vbp_pack_map(p, &size);
    assert_int_equal(truncate(path, 8192), 0);
    assert_int_equal(vbp_pack_check_unchanged(p, &err), VBP_E_TRUNCATED);
    char want[4200];
    snprintf(want, sizeof want, "%s: file truncated while in use (8192 bytes, was %zu)", path, size);
    assert_string_equal(err.detail, want);
    /* back to its size (the old bytes are gone): a rewrite, not the file that was mapped;
     * the mtime is set explicitly because a filesystem's clock may be coarser than this test */
    assert_int_equal(truncate(path, (off_t)size), 0);
    const struct timespec t[2] = {{1, 0}, {1, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    assert_int_equal(vbp_pack_check_unchanged(p, &err), VBP_E_IO);
    snprintf(want, sizeof want, "%s: file rewritten while in use", path);
    assert_string_equal(err.detail, want);
    vbp_pack_close(p);
}

/* A pack of `frames` 8x8 gray frames in one clip. */
static void long_pack(uint32_t frames)
{
    vbp_writer_opts o = {{8, 8, 1, 1}, VBP_CODEC_RAW, 1};
    vbp_writer *w;
    vbp_error err;
    uint8_t px[64] = {0};
    assert_int_equal(vbp_writer_open(path, &o, &w, &err), VBP_OK);
    assert_int_equal(vbp_writer_begin_clip(w, "long", "", VBP_SPLIT_TRAIN, &err), VBP_OK);
    for (uint32_t i = 0; i < frames; i++) {
        px[0] = (uint8_t)i;
        assert_int_equal(vbp_writer_add_frame(w, px, NULL, &err), VBP_OK);
    }
    for (uint32_t i = 0; i < frames; i++)
        assert_int_equal(vbp_writer_add_heatmap(w, px, &err), VBP_OK);
    assert_int_equal(vbp_writer_end_clip(w, &err), VBP_OK);
    assert_int_equal(vbp_writer_finish(w, &err), VBP_OK);
}

static void truncate_now(void *ctx, uint64_t done, uint64_t total)
{
    (void)total;
    if (done == 64)
        assert_int_equal(truncate(ctx, 4096), 0);
}

/* Truncated by "another process" (the progress callback) after 64 of 200 frames. */
static void verify_reports_truncation_instead_of_faulting(void **s)
{
    (void)s;
    long_pack(200);
    vbp_error err;
    vbp_pack *p;
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    assert_int_equal(vbp_pack_verify(p, truncate_now, path, &err), VBP_E_TRUNCATED);
    char want[4200];
    snprintf(want, sizeof want, "%s: file truncated while in use (4096 bytes, was ", path);
    assert_memory_equal(err.detail, want, strlen(want));
    vbp_pack_close(p);
}

/* The loader re-checks before every window: truncation between batches is an error. */
static void loader_reports_truncation(void **s)
{
    (void)s;
    long_pack(200);
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    o.threads = 0;
    o.order = VBP_ORDER_SEQUENTIAL;
    o.memory_limit = 1ull << 30;
    vbp_loader *ld;
    vbp_error err;
    assert_int_equal(vbp_loader_open_path(path, &o, &ld, &err), VBP_OK);
    vbp_batch b;
    assert_true(vbp_loader_next(ld, &b, &err) > 0);
    assert_int_equal(truncate(path, 4096), 0);
    assert_int_equal(vbp_loader_next(ld, &b, &err), VBP_E_TRUNCATED);
    char want[4200];
    snprintf(want, sizeof want, "%s: file truncated while in use (4096 bytes, was ", path);
    assert_memory_equal(err.detail, want, strlen(want));
    vbp_loader_close(ld);
}

/*
 * Child: truncate a mapped file to one page, then read past it.  mode 0:
 * a pack, guard enabled; 1: a pack, no guard; 2: guard enabled but the
 * mapping is not a pack's (a plain mmap of the same file).
 */
static void child_touch_after_truncate(int mode)
{
    vbp_error err;
    vbp_pack *p;
    if (mode != 1 && vbp_guard_enable("reader", &err))
        _exit(11);
    if (vbp_pack_open(path, &p, &err))
        _exit(10);
    size_t size;
    const uint8_t *at = vbp_pack_map(p, &size) + size - 1;
    if (mode == 2) {
        int fd = open(path, O_RDONLY);
        void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
        if (fd < 0 || m == MAP_FAILED)
            _exit(13);
        at = (const uint8_t *)m + size - 1;
    }
    if (truncate(path, 4096) != 0)
        _exit(12);
    volatile uint8_t v = *at;
    (void)v;
    _exit(0); /* only reached if the page was still readable */
}

/* Fork, run the child with stderr into a pipe; returns the wait status, *msg its stderr. */
static int run_child(int mode, char *msg, size_t msg_size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGBUS, SIG_DFL); /* not cmocka's or a sanitizer's handler */
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        child_touch_after_truncate(mode);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < msg_size && (k = read(fds[0], msg + n, msg_size - 1 - n)) > 0)
        n += (size_t)k;
    msg[n] = 0;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void guard_turns_sigbus_into_an_error(void **s)
{
    (void)s;
    fresh_pack();
    char msg[2048], want[4200];
    int status = run_child(0, msg, sizeof msg);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("child: status 0x%x, stderr '%s'", status, msg);
    snprintf(want, sizeof want, "reader: %s: file truncated while in use (SIGBUS reading offset ", path);
    if (strncmp(msg, want, strlen(want)) || !strchr(msg, '\n') || strchr(msg, '\n')[1])
        fail_msg("stderr '%s', want one line starting '%s'", msg, want);
}

/* Without the guard, or outside a pack's mapping, the same access is a SIGBUS crash. */
static void other_sigbus_keep_their_default(void **s)
{
    (void)s;
    char msg[2048];
    for (int mode = 1; mode <= 2; mode++) {
        fresh_pack();
        int status = run_child(mode, msg, sizeof msg);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS)
            fail_msg("mode %d: status 0x%x, stderr '%s'", mode, status, msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_unchanged_sees_truncation_and_rewrites),
        cmocka_unit_test(verify_reports_truncation_instead_of_faulting),
        cmocka_unit_test(loader_reports_truncation),
        cmocka_unit_test(guard_turns_sigbus_into_an_error),
        cmocka_unit_test(other_sigbus_keep_their_default),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

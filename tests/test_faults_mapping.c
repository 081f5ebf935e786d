/*
 * test_faults_mapping.c - a pack truncated under a running reader: an error
 * naming the pack, never a SIGBUS crash.
 *
 * The guard (include/vbp_guard.h) is tested in forked children that truncate
 * their own pack and then touch a record past the new end, the way a race
 * with another process would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "pack_fixture.h"
#include "vbp_guard.h"

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

/* Read the last record's first byte after truncating the file to one page. */
static void child_touch_after_truncate(int guard, int release)
{
    vbp_error err;
    vbp_pack *p;
    if (vbp_pack_open(path, &p, &err))
        _exit(10);
    if (guard && vbp_guard_pack("reader", p, &err))
        _exit(11);
    if (release)
        vbp_guard_release(p);
    vbp_record r;
    vbp_pack_record(p, vbp_pack_get_info(p)->frame_count - 1, VBP_REC_HEATMAP, &r);
    if (truncate(path, 4096) != 0)
        _exit(12);
    volatile uint8_t v = r.stored[0];
    (void)v;
    _exit(0); /* only reached if the page was still readable */
}

/* Fork, run the child with stderr into a pipe; returns the wait status, *msg its stderr. */
static int run_child(int guard, int release, char *msg, size_t msg_size)
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
        child_touch_after_truncate(guard, release);
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
    int status = run_child(1, 0, msg, sizeof msg);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("child: status 0x%x, stderr '%s'", status, msg);
    snprintf(want, sizeof want, "reader: %s: file truncated while in use (SIGBUS reading offset ", path);
    if (strncmp(msg, want, strlen(want)) || !strchr(msg, '\n') || strchr(msg, '\n')[1])
        fail_msg("stderr '%s', want one line starting '%s'", msg, want);
}

/* Without the guard (or after release) the same access is a SIGBUS crash: the test is real. */
static void unguarded_access_is_a_crash(void **s)
{
    (void)s;
    char msg[2048];
    fresh_pack();
    int status = run_child(0, 0, msg, sizeof msg);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
    fresh_pack();
    status = run_child(1, 1, msg, sizeof msg);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guard_turns_sigbus_into_an_error),
        cmocka_unit_test(unguarded_access_is_a_crash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

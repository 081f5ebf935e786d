/*
 * pack_guard.c - SIGBUS on a guarded pack mapping -> one error line, exit 1.
 * See include/vbp_guard.h.  The handler only reads the slot table and calls
 * write() and _exit(), both async-signal-safe; the message is formatted when
 * the pack is guarded, except the offset, formatted by hand in the handler.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "vbp_guard.h"

typedef struct guard_slot {
    volatile sig_atomic_t used;
    const vbp_pack *pack;
    uintptr_t base;
    size_t size;
    char message[1024]; /* "PROG: PACK: file truncated while in use (SIGBUS reading offset " */
    size_t length;
} guard_slot;

static guard_slot slots[VBP_GUARD_MAX];
static int installed;

static void put_u64(char *end, uint64_t v, char **start)
{
    char *p = end;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    *start = p;
}

static void on_sigbus(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    uintptr_t a = (uintptr_t)info->si_addr;
    for (int i = 0; i < VBP_GUARD_MAX; i++) {
        guard_slot *s = &slots[i];
        if (!s->used || a < s->base || a - s->base >= s->size)
            continue;
        char num[24], *p;
        put_u64(num + sizeof num, (uint64_t)(a - s->base), &p);
        ssize_t ignored = write(STDERR_FILENO, s->message, s->length);
        ignored = write(STDERR_FILENO, p, (size_t)(num + sizeof num - p));
        ignored = write(STDERR_FILENO, ")\n", 2);
        (void)ignored;
        _exit(1);
    }
    /* Not ours: default action (the fault repeats when the handler returns). */
    signal(sig, SIG_DFL);
}

int vbp_guard_pack(const char *prog, const vbp_pack *pack, vbp_error *err)
{
    if (!prog || !pack)
        return vbp_fail(err, VBP_E_ARG, "guard: no program name or pack");
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, NULL) != 0)
            return vbp_fail(err, VBP_E_IO, "guard: sigaction(SIGBUS): %s", strerror(errno));
        installed = 1;
    }
    for (int i = 0; i < VBP_GUARD_MAX; i++) {
        guard_slot *s = &slots[i];
        if (s->used)
            continue;
        size_t size;
        s->pack = pack;
        s->base = (uintptr_t)vbp_pack_map(pack, &size);
        s->size = size;
        int n = snprintf(s->message, sizeof s->message,
                         "%s: %s: file truncated while in use (SIGBUS reading offset ", prog,
                         vbp_pack_path(pack));
        s->length = n < 0 ? 0 : (size_t)n < sizeof s->message ? (size_t)n : sizeof s->message - 1;
        s->used = 1; /* last: the handler never sees a half-filled slot */
        return VBP_OK;
    }
    return vbp_fail(err, VBP_E_ARG, "%s: more than %d packs guarded", vbp_pack_path(pack),
                    VBP_GUARD_MAX);
}

void vbp_guard_release(const vbp_pack *pack)
{
    for (int i = 0; i < VBP_GUARD_MAX; i++)
        if (slots[i].used && slots[i].pack == pack)
            slots[i].used = 0;
}

/*
 * pack_guard.c - SIGBUS on a guarded pack mapping -> one error line, exit 1.
 * See include/vbp_guard.h.  The handler only reads the slot table and calls
 * write() and _exit(), both async-signal-safe; each slot's message is
 * formatted when the pack is registered, except the offset, formatted by
 * hand in the handler.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "pack_guard.h"
#include "vbp_guard.h"

enum { SLOT_FREE = 0, SLOT_FILLING = 1, SLOT_READY = 2 };

typedef struct guard_slot {
    int state; /* SLOT_*, accessed with atomics */
    const void *pack;
    uintptr_t base;
    size_t size;
    size_t length;
    char message[1024]; /* "PROG: PACK: file truncated while in use (SIGBUS reading offset " */
} guard_slot;

static guard_slot slots[VBP_GUARD_MAX];
static const char *program; /* set by vbp_guard_enable; NULL: guarding is off */

static void on_sigbus(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    uintptr_t a = (uintptr_t)info->si_addr;
    for (int i = 0; i < VBP_GUARD_MAX; i++) {
        guard_slot *s = &slots[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY || a < s->base ||
            a - s->base >= s->size)
            continue;
        char num[24], *p = num + sizeof num;
        uint64_t off = (uint64_t)(a - s->base);
        do
            *--p = (char)('0' + off % 10);
        while ((off /= 10) != 0);
        ssize_t ignored = write(STDERR_FILENO, s->message, s->length);
        ignored = write(STDERR_FILENO, p, (size_t)(num + sizeof num - p));
        ignored = write(STDERR_FILENO, ")\n", 2);
        (void)ignored;
        _exit(1);
    }
    /* Not a pack: the default action (the fault repeats when the handler returns). */
    signal(sig, SIG_DFL);
}

int vbp_guard_enable(const char *prog, vbp_error *err)
{
    if (!prog)
        return vbp_fail(err, VBP_E_ARG, "guard: no program name");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) != 0)
        return vbp_fail(err, VBP_E_IO, "guard: sigaction(SIGBUS): %s", strerror(errno));
    __atomic_store_n(&program, prog, __ATOMIC_RELEASE);
    return VBP_OK;
}

void vbp_guard_register(const void *pack, const uint8_t *map, size_t size, const char *path)
{
    const char *prog = __atomic_load_n(&program, __ATOMIC_ACQUIRE);
    if (!prog)
        return;
    for (int i = 0; i < VBP_GUARD_MAX; i++) {
        guard_slot *s = &slots[i];
        int expected = SLOT_FREE;
        if (!__atomic_compare_exchange_n(&s->state, &expected, SLOT_FILLING, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_RELAXED))
            continue;
        s->pack = pack;
        s->base = (uintptr_t)map;
        s->size = size;
        int n = snprintf(s->message, sizeof s->message,
                         "%s: %s: file truncated while in use (SIGBUS reading offset ", prog, path);
        s->length = n < 0 ? 0 : (size_t)n < sizeof s->message ? (size_t)n : sizeof s->message - 1;
        __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
        return;
    }
}

void vbp_guard_unregister(const void *pack)
{
    for (int i = 0; i < VBP_GUARD_MAX; i++)
        if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) == SLOT_READY && slots[i].pack == pack)
            __atomic_store_n(&slots[i].state, SLOT_FREE, __ATOMIC_RELEASE);
}

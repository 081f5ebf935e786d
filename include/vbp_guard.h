/*
 * vbp_guard.h - a pack truncated under a running program: an error, not a crash.
 *
 * A pack is read through a shared mapping.  If another process truncates the
 * file, touching a mapped page past the new end raises SIGBUS.  The library
 * re-checks the file size between batches of records (vbp_pack_check_size in
 * vbp_pack.h), but a truncation can still land between a check and an
 * access.  Programs close that gap by guarding each pack they open: a SIGBUS
 * whose address lies inside a guarded mapping prints one line
 *     PROG: PACK: file truncated while in use (SIGBUS reading offset N)
 * on stderr and ends the process with exit status 1.  A SIGBUS anywhere else
 * keeps its default action.
 *
 * Signal dispositions are process-wide, so this is the one piece of vbpack
 * with process-wide state: up to VBP_GUARD_MAX packs.  The library never
 * installs a handler by itself; call these from the main thread.
 */
#ifndef VBP_GUARD_H
#define VBP_GUARD_H

#include "vbp_error.h"
#include "vbp_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VBP_GUARD_MAX 8

/*
 * Guard pack's mapping; `prog` starts the message.  Installs the SIGBUS
 * handler on first use.  Fails with VBP_E_ARG when VBP_GUARD_MAX packs are
 * already guarded, VBP_E_IO when sigaction fails.
 */
int vbp_guard_pack(const char *prog, const vbp_pack *pack, vbp_error *err);

/* Stop guarding pack (call before vbp_pack_close); unknown packs are ignored. */
void vbp_guard_release(const vbp_pack *pack);

#ifdef __cplusplus
}
#endif
#endif

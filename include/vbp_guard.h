/*
 * vbp_guard.h - a pack truncated under a running program: an error, not a crash.
 *
 * A pack is read through a shared mapping.  If another process truncates the
 * file, touching a mapped page past the new end raises SIGBUS.  The library
 * re-checks the file between batches of records (vbp_pack_check_unchanged
 * in vbp_pack.h), but a truncation can still land between a check and an
 * access.  A program closes that gap with one call at startup: from then
 * on every pack it opens (directly or inside the loader or the trainer) is
 * guarded until closed, and a SIGBUS whose address lies inside a guarded
 * mapping prints one line
 *     PROG: PACK: file truncated while in use (SIGBUS reading offset N)
 * on stderr and ends the process with exit status 1.  A SIGBUS anywhere
 * else keeps its default action.
 *
 * Signal dispositions are process-wide, so this is the one piece of vbpack
 * with process-wide state (a table of VBP_GUARD_MAX open packs; packs
 * opened beyond that are not guarded, the re-checks still apply).  The
 * library never installs a handler unless a program asks for it.
 */
#ifndef VBP_GUARD_H
#define VBP_GUARD_H

#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VBP_GUARD_MAX 16

/*
 * Install the SIGBUS handler and guard every pack opened from now on;
 * `prog` (kept, not copied: a string literal or argv[0]) starts the message.
 * Call from the main thread before any pack is opened.  Fails with VBP_E_IO
 * when sigaction fails.
 */
int vbp_guard_enable(const char *prog, vbp_error *err);

#ifdef __cplusplus
}
#endif
#endif

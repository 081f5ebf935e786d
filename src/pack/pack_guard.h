/*
 * pack_guard.h - the reader's side of vbp_guard.h (internal): open packs
 * enter the guard table, closed ones leave it.  Both are no-ops until a
 * program calls vbp_guard_enable.  Thread-safe (slots are claimed with
 * atomics); async-signal-safe reads by the handler.
 */
#ifndef VBP_PACK_GUARD_H
#define VBP_PACK_GUARD_H

#include <stddef.h>
#include <stdint.h>

void vbp_guard_register(const void *pack, const uint8_t *map, size_t size, const char *path);
void vbp_guard_unregister(const void *pack);

#endif

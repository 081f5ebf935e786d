/*
 * atomic.h - replacing a file atomically, and the temporary files that
 * killed writers leave (internal).
 *
 * The one scheme of the library: a file PATH is written to "PATH.tmp.<pid>"
 * beside it (same directory, so rename is atomic), fsync'ed, renamed onto
 * PATH, and PATH's directory fsync'ed.  A process killed meanwhile leaves
 * "PATH.tmp.<pid>" and PATH untouched; vbp_temp_sweep removes such files
 * once their process is gone.
 */
#ifndef VBP_ATOMIC_H
#define VBP_ATOMIC_H

#include <stddef.h>
#include "vbp_error.h"
#include "vbp_util.h"

typedef struct vbp_atomic {
    char *path, *tmp;
    int fd; /* the temporary file, open for writing */
} vbp_atomic;

/*
 * Create "PATH.tmp.<pid>" (mode 0644 less the umask).  A file of that name is
 * left from an earlier process that had our pid (we never write one path
 * twice at once): it is replaced.  VBP_E_IO naming the file on failure.
 */
int vbp_atomic_open(vbp_atomic *a, const char *path, vbp_error *err);
/* Write all n bytes at the file position (EINTR retried); VBP_E_IO naming PATH. */
int vbp_atomic_write(vbp_atomic *a, const void *buf, size_t n, vbp_error *err);
/*
 * fsync and close the temporary file, rename it onto PATH and fsync the
 * directory.  replace == 0: never replace an existing PATH (VBP_E_EXISTS,
 * also when it appeared meanwhile: renameat2 RENAME_NOREPLACE, or link +
 * unlink where unsupported).  On failure the temporary file is removed.
 * Releases a either way.
 */
int vbp_atomic_commit(vbp_atomic *a, int replace, vbp_error *err);
/* Remove the temporary file and release a (a zeroed or released a is fine). */
void vbp_atomic_abort(vbp_atomic *a);

/* vbp_atomic_write_file (open + write + commit, replacing) is public: vbp_util.h. */

/* fsync PATH's directory (a file system that refuses it, EINVAL/EROFS, is accepted). */
int vbp_fsync_parent(const char *path, vbp_error *err);

/*
 * Remove the "PATH.tmp.<pid>" files whose process no longer exists (a live
 * process's file, ours included, is left alone).  `removed` (may be NULL)
 * gets each removed file's path.  Returns the count, or VBP_E_IO when the
 * directory cannot be read or a file cannot be removed (err names it).
 */
int vbp_temp_sweep(const char *path, void (*removed)(void *ctx, const char *tmp_path), void *ctx,
                   vbp_error *err);

#endif

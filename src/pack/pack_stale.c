/*
 * pack_stale.c - temporary files left by killed writers.
 *
 * vbp_writer_open writes to "PATH.tmp.<pid>" and only a successful finish
 * renames it to PATH, so a writer killed by SIGKILL (or a power cut) leaves
 * that file behind and nothing at PATH.  The next writer of PATH removes the
 * ones whose process is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "vbp_pack.h"

/* pid of "<base>.tmp.<digits>", or 0 when name is not one of base's temporary files. */
static long temp_owner(const char *name, const char *base, size_t blen)
{
    if (strncmp(name, base, blen) || strncmp(name + blen, ".tmp.", 5))
        return 0;
    const char *d = name + blen + 5;
    long pid = 0;
    if (!*d)
        return 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || pid > 99999999)
            return 0;
        pid = pid * 10 + (*d - '0');
    }
    return pid;
}

int vbp_writer_remove_stale(const char *path, vbp_stale_fn removed, void *ctx, vbp_error *err)
{
    if (!path || !*path)
        return vbp_fail(err, VBP_E_ARG, "no pack path");
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    char dir[4096], file[4096 + 258];
    if (strlen(path) >= sizeof dir)
        return vbp_fail(err, VBP_E_ARG, "%s: path too long", path);
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    DIR *d = opendir(dir);
    if (!d)
        return vbp_fail(err, VBP_E_IO, "%s: cannot read directory %s: %s", path, dir, strerror(errno));
    int n = 0, rc = VBP_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        long pid = temp_owner(e->d_name, base, blen);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its writer may still be running */
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
            rc = vbp_fail(err, VBP_E_IO, "%s: cannot remove stale %s: %s", path, file, strerror(errno));
            break;
        }
        n++;
        if (removed)
            removed(ctx, file);
    }
    closedir(d);
    return rc ? rc : n;
}

/* atomic.c - see atomic.h: the one temp-file + rename path, and its sweep. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "atomic.h"
#include "internal.h"

int vbp_atomic_open(vbp_atomic *a, const char *path, vbp_error *err)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    size_t n = strlen(path) + 32;
    a->path = strdup(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        vbp_atomic_abort(a);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    }
    snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    for (int attempt = 0; attempt < 2 && a->fd < 0; attempt++) {
        a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (a->fd < 0 && errno == EEXIST && attempt == 0)
            unlink(a->tmp); /* left by a dead process that had our pid */
    }
    if (a->fd < 0) {
        int rc = vbp_fail(err, VBP_E_IO, "%s: cannot create %s: %s", path, a->tmp, strerror(errno));
        free(a->tmp);
        a->tmp = NULL; /* nothing of ours to remove */
        vbp_atomic_abort(a);
        return rc;
    }
    return VBP_OK;
}

int vbp_atomic_write(vbp_atomic *a, const void *buf, size_t n, vbp_error *err)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(a->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return vbp_fail(err, VBP_E_IO, "%s: write failed: %s", a->path,
                            k < 0 ? strerror(errno) : "no progress");
        p += k;
        n -= (size_t)k;
    }
    return VBP_OK;
}

void vbp_atomic_abort(vbp_atomic *a)
{
    if (a->fd >= 0)
        close(a->fd);
    if (a->tmp)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    a->fd = -1;
    a->tmp = a->path = NULL;
}

/* Move tmp onto path; without replace never over a file that exists or appeared meanwhile. */
static int publish(const vbp_atomic *a, int replace, vbp_error *err)
{
    if (replace) {
        if (rename(a->tmp, a->path) != 0)
            return vbp_fail(err, VBP_E_IO, "%s: rename failed: %s", a->path, strerror(errno));
        return VBP_OK;
    }
    if (renameat2(AT_FDCWD, a->tmp, AT_FDCWD, a->path, RENAME_NOREPLACE) == 0)
        return VBP_OK;
    if (errno != EINVAL && errno != ENOSYS) {
        if (errno == EEXIST)
            return vbp_fail(err, VBP_E_EXISTS, "%s: already exists (use --force to replace it)", a->path);
        return vbp_fail(err, VBP_E_IO, "%s: rename failed: %s", a->path, strerror(errno));
    }
    /* File system without RENAME_NOREPLACE: link fails if path exists. */
    if (link(a->tmp, a->path) != 0) {
        if (errno == EEXIST)
            return vbp_fail(err, VBP_E_EXISTS, "%s: already exists (use --force to replace it)", a->path);
        return vbp_fail(err, VBP_E_IO, "%s: link failed: %s", a->path, strerror(errno));
    }
    unlink(a->tmp);
    return VBP_OK;
}

int vbp_atomic_commit(vbp_atomic *a, int replace, vbp_error *err)
{
    int rc = VBP_OK;
    if (fsync(a->fd) != 0)
        rc = vbp_fail(err, VBP_E_IO, "%s: fsync failed: %s", a->path, strerror(errno));
    if (close(a->fd) != 0 && !rc)
        rc = vbp_fail(err, VBP_E_IO, "%s: close failed: %s", a->path, strerror(errno));
    a->fd = -1;
    if (!rc)
        rc = publish(a, replace, err);
    if (rc) {
        vbp_atomic_abort(a);
        return rc;
    }
    rc = vbp_fsync_parent(a->path, err);
    free(a->tmp);
    a->tmp = NULL;
    vbp_atomic_abort(a);
    return rc;
}

int vbp_atomic_write_file(const char *path, const void *data, size_t len, vbp_error *err)
{
    vbp_atomic a;
    int rc = vbp_atomic_open(&a, path, err);
    if (rc)
        return rc;
    rc = vbp_atomic_write(&a, data, len, err);
    if (rc) {
        vbp_atomic_abort(&a);
        return rc;
    }
    return vbp_atomic_commit(&a, 1, err);
}

/* Directory part of path into dir ("." or "/" when there is none). */
static int parent_dir(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return snprintf(dir, size, ".") < 0;
    if (slash == path)
        return snprintf(dir, size, "/") < 0;
    return (size_t)snprintf(dir, size, "%.*s", (int)(slash - path), path) >= size;
}

int vbp_fsync_parent(const char *path, vbp_error *err)
{
    char dir[4096];
    if (parent_dir(path, dir, sizeof dir))
        return vbp_fail(err, VBP_E_ARG, "%s: path too long", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open directory %s: %s", path, dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* Some file systems refuse fsync on a directory; the rename is done anyway. */
    if (rc && e != EINVAL && e != EROFS)
        return vbp_fail(err, VBP_E_IO, "%s: cannot sync directory %s: %s", path, dir, strerror(e));
    return VBP_OK;
}

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

int vbp_temp_sweep(const char *path, void (*removed)(void *ctx, const char *tmp_path), void *ctx,
                   vbp_error *err)
{
    if (!path || !*path)
        return vbp_fail(err, VBP_E_ARG, "no path");
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    char dir[4096], file[4096 + 258];
    if (parent_dir(path, dir, sizeof dir))
        return vbp_fail(err, VBP_E_ARG, "%s: path too long", path);
    DIR *d = opendir(dir);
    if (!d)
        return vbp_fail(err, VBP_E_IO, "%s: cannot read directory %s: %s", path, dir, strerror(errno));
    int n = 0, rc = VBP_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
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

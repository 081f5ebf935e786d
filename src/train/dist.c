/*
 * dist.c - every MPI call of the project (vbp_dist.h), or the serial stub of
 * one rank when built without MPI (VBP_HAVE_MPI undefined).  Linked into
 * vbtrain and vbbench only; libvbpack reaches MPI through the vbp_dist table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vbp_dist.h"

#ifdef VBP_HAVE_MPI
#include <mpi.h>

/* vbp_dist_init started MPI: finalize and abort go through it. */
static int g_mpi_started;

static int mpi_fail(vbp_error *err, const char *what, int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", code);
    if (err) {
        err->code = VBP_E_IO;
        snprintf(err->detail, sizeof err->detail, "%s failed: %s", what, text);
    }
    return VBP_E_IO;
}

static int mpi_allreduce(void *ctx, float *buf, size_t n, vbp_error *err)
{
    (void)ctx;
    /* counts are int: large buffers go in pieces */
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce", rc);
    }
    return VBP_OK;
}

static int mpi_bcast(void *ctx, void *buf, size_t bytes, int root, vbp_error *err)
{
    (void)ctx;
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < bytes; off += chunk) {
        size_t k = bytes - off < chunk ? bytes - off : chunk;
        int rc = MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Bcast", rc);
    }
    return VBP_OK;
}

static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}
#endif

static int serial_allreduce(void *ctx, float *buf, size_t n, vbp_error *err)
{
    (void)ctx, (void)buf, (void)n, (void)err;
    return VBP_OK;
}

static int serial_bcast(void *ctx, void *buf, size_t bytes, int root, vbp_error *err)
{
    (void)ctx, (void)buf, (void)bytes, (void)root, (void)err;
    return VBP_OK;
}

int vbp_dist_init(int *argc, char ***argv, vbp_dist *out, vbp_error *err)
{
    memset(out, 0, sizeof *out);
    out->rank = 0;
    out->size = 1;
    out->allreduce_sum = serial_allreduce;
    out->bcast = serial_bcast;
#ifdef VBP_HAVE_MPI
    if (!launched())
        return VBP_OK;
    int provided = 0;
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Init_thread", rc);
    g_mpi_started = 1;
    /* errors come back as codes (reported, then the job ends), not as MPI's default abort */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &out->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &out->size);
    out->ctx = &g_mpi_started;
    out->allreduce_sum = mpi_allreduce;
    out->bcast = mpi_bcast;
#else
    (void)argc, (void)argv, (void)err;
#endif
    return VBP_OK;
}

void vbp_dist_finalize(vbp_dist *d)
{
    (void)d;
#ifdef VBP_HAVE_MPI
    if (g_mpi_started)
        MPI_Finalize();
    g_mpi_started = 0;
#endif
}

void vbp_dist_abort(vbp_dist *d, int code)
{
    (void)d;
#ifdef VBP_HAVE_MPI
    if (g_mpi_started)
        MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

const char *vbp_dist_backend(void)
{
#ifdef VBP_HAVE_MPI
    return "mpi";
#else
    return "serial";
#endif
}

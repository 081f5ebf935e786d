/*
 * vbp_safetensors.h - read and write the safetensors format (F32 and I64).
 *
 * File: 8-byte little-endian header length L, L bytes of JSON
 *   {"__metadata__":{"k":"v",...},"name":{"dtype":"F32","shape":[..],"data_offsets":[b,e]},...}
 * padded with spaces to a multiple of 8, then the raw little-endian tensor
 * bytes (offsets relative to the end of the header).  This is the layout of
 * the `safetensors` Python package, so PyTorch reads these files with
 * safetensors.torch.load_file and numpy with a few lines (tests/torch_parity.py).
 */
#ifndef VBP_SAFETENSORS_H
#define VBP_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vbp_st_dtype { VBP_ST_F32 = 0, VBP_ST_I64 = 1 } vbp_st_dtype;
#define VBP_ST_MAX_DIMS 8

typedef struct vbp_st_tensor {
    const char *name;
    vbp_st_dtype dtype;
    uint32_t ndim;                   /* 0 for a scalar */
    uint64_t shape[VBP_ST_MAX_DIMS];
    const void *data;                /* numel * element size bytes; reader: may be unaligned */
} vbp_st_tensor;

/* Bytes per element of a dtype (4 or 8), elements of a tensor. */
size_t vbp_st_dtype_size(vbp_st_dtype d);
uint64_t vbp_st_numel(const vbp_st_tensor *t);

/*
 * Write count tensors (names unique, printable, no '"' or '\\') and
 * meta_count metadata pairs meta[2k] -> meta[2k+1] (may be NULL, 0) to path,
 * through a temporary file renamed over path: a failed write leaves no file.
 */
int vbp_safetensors_write(const char *path, const vbp_st_tensor *tensors, size_t count,
                          const char *const *meta, size_t meta_count, vbp_error *err);

typedef struct vbp_st_file vbp_st_file;

/*
 * Read and validate a whole file (JSON syntax, dtypes, offsets inside the
 * data and consistent with the shapes).  Fails with VBP_E_IO, VBP_E_FORMAT
 * (with the path and what is wrong) or VBP_E_NOMEM.
 */
int vbp_safetensors_open(const char *path, vbp_st_file **out, vbp_error *err);
void vbp_safetensors_close(vbp_st_file *f);
size_t vbp_safetensors_count(const vbp_st_file *f);
/* Tensor i in file order; data points into f (valid until close). VBP_E_ARG if i >= count. */
int vbp_safetensors_get(const vbp_st_file *f, size_t i, vbp_st_tensor *t);
/* The tensor called name, or VBP_E_ARG (no err detail) when absent. */
int vbp_safetensors_find(const vbp_st_file *f, const char *name, vbp_st_tensor *t);
/* Metadata value of key, or NULL. */
const char *vbp_safetensors_meta(const vbp_st_file *f, const char *key);

#ifdef __cplusplus
}
#endif
#endif

/*
 * vbp_onnx.h - export VballNetFastV1 as an ONNX model (inference graph).
 *
 * The model (opset 13, IR version 7) computes exactly the eval-mode forward of
 * vbp_net_forward(..., training = 0): each block is a depthwise Conv (group =
 * channels, 3x3, pad 1), a pointwise Conv whose weights and bias fold the
 * BatchNorm running statistics, and a Relu; MaxPool 2x2; Resize (linear,
 * half_pixel: PyTorch's bilinear with align_corners=False) then Concat
 * (upsampled first, then the skip); a 1x1 head Conv and Sigmoid.
 *   input  "frames":   float32 [N, seq*channels, height, width], N dynamic
 *   output "heatmaps": float32 [N, seq, height, width], probabilities
 * metadata_props: "seq", "channels" (per frame), "model" = "VballNetFastV1".
 * docs/network.md ("ONNX export") describes the graph and how it is tested.
 */
#ifndef VBP_ONNX_H
#define VBP_ONNX_H

#include <stdint.h>
#include "vbp_error.h"
#include "vbp_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Input size used when height and width are 0: the VballNet frame, 512x288. */
#define VBP_ONNX_DEFAULT_HEIGHT 288
#define VBP_ONNX_DEFAULT_WIDTH 512

/*
 * Write net's inference graph for frames of height x width (multiples of 8;
 * 0, 0 = 288 x 512) to path, through a temporary file renamed over path: a
 * failure leaves no file at path.  frame_channels (1 gray, 3 RGB) only goes
 * into the metadata; the net's inputs must be seq frames of that many channels, or seq
 * frames and a background frame (metadata "background" = "median", docs/network.md).
 * VBP_E_ARG (bad size), VBP_E_NUMERIC (a non-finite weight or running
 * statistic), VBP_E_IO, VBP_E_NOMEM.
 */
int vbp_onnx_write(vbp_net *net, uint32_t frame_channels, uint32_t height, uint32_t width,
                   const char *path, vbp_error *err);

/*
 * Load a safetensors state dict (architecture, seq and channels from the file,
 * as vbp_weights_net) and write it with vbp_onnx_write, with the detection
 * threshold vbtrain would use (vbp_weights_threshold) as metadata_props
 * "threshold".  Errors name the weights file (VBP_E_IO, VBP_E_FORMAT) or the
 * output path.
 */
int vbp_onnx_export(const char *weights, uint32_t height, uint32_t width, const char *path,
                    vbp_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * background.h - a clip's background frame: the median of its frames (internal).
 *
 * TrackNetV3 gives its network, besides the window, an estimate of the
 * scene without the ball: the median frame of the video.  Here it is the
 * median of at most VBP_BG_FRAMES frames spread over the clip: frames 0, s,
 * 2s, ... (< n) with s the smallest power of two that leaves at most
 * VBP_BG_FRAMES of them.  That rule depends on n alone, so a reader that
 * does not know n in advance (vbtrain track, decoding a stream) reaches the
 * same frames by keeping every s-th frame and doubling s whenever it holds
 * more than VBP_BG_FRAMES.  Byte i of the background is the lower median of
 * byte i of those m frames: the value at index (m - 1) / 2 of the m values
 * sorted (docs/training.md, "Background frame").
 */
#ifndef VBP_BACKGROUND_H
#define VBP_BACKGROUND_H

#include <stddef.h>
#include <stdint.h>

#define VBP_BG_FRAMES 128u

/* The stride s of the frames the background of an n-frame clip takes (n >= 1). */
uint64_t vbp_bg_stride(uint64_t n);

/*
 * out[i] = the lower median of frames[0][i] .. frames[m-1][i] for i < bytes;
 * 1 <= m <= 255.  Returns -1 when its scratch (256 KiB) cannot be allocated.
 */
int vbp_bg_median(const uint8_t *const *frames, uint32_t m, size_t bytes, uint8_t *out);

/*
 * The same frames from a stream of unknown length: write frame n (0, 1, ...) at
 * vbp_bg_sampler_slot(), then call vbp_bg_sampler_push(); after the last, m frames
 * (at keep + j * bytes, frame j * s) are those vbp_bg_stride(n) picks.
 */
typedef struct vbp_bg_sampler {
    uint8_t *keep;  /* VBP_BG_FRAMES + 1 frames of `bytes` */
    size_t bytes;
    uint64_t n, s;  /* frames pushed; the current stride */
    uint32_t m;     /* frames kept */
} vbp_bg_sampler;

int vbp_bg_sampler_init(vbp_bg_sampler *b, size_t bytes); /* -1: out of memory */
uint8_t *vbp_bg_sampler_slot(const vbp_bg_sampler *b);
void vbp_bg_sampler_push(vbp_bg_sampler *b);
/* The median of the kept frames (vbp_bg_median; at least one frame pushed). */
int vbp_bg_sampler_median(const vbp_bg_sampler *b, uint8_t *out);
void vbp_bg_sampler_free(vbp_bg_sampler *b);

#endif

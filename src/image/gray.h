/*
 * gray.h - the pack's RGB -> gray formula (internal; formats/vbpack.md states it).
 */
#ifndef VBP_GRAY_H
#define VBP_GRAY_H

#include <stdint.h>

/*
 * OpenCV's cvtColor RGB2GRAY on 8-bit data (4.x, as shipped by Debian 12):
 * Y = (R*9798 + G*19235 + B*3735 + 2^14) >> 15, i.e. 0.299/0.587/0.114 in
 * 15-bit fixed point, rounded.  Checked against cv2 on all 2^24 colours.
 */
static inline uint8_t vbp_gray(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 9798u + g * 19235u + b * 3735u + (1u << 14)) >> 15);
}

#endif

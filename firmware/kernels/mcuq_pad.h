/* Pad: a constant border around an HWC image, and between its pixels, the kernel
 * interface, whatever the instruction set (NumPy twin: mcuq/ops/pad.py; kernels:
 * firmware/kernels/<isa>/). Input pixel (iy, ix) lands on output pixel
 * (pad_top + iy stride_h, pad_left + ix stride_w); every other output pixel is the value. */
#ifndef MCUQ_PAD_H
#define MCUQ_PAD_H

#include <stdint.h>

typedef struct {
    int32_t channels, in_h, in_w;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t stride_h, stride_w;
} mcuq_pad_t;

/* The input pixel that output pixel `pixel` holds, or -1 where it holds the value */
static inline int32_t mcuq_pad_source(const mcuq_pad_t *p, int32_t pixel)
{
    const int32_t out_w = (p->in_w - 1) * p->stride_w + 1 + p->pad_left + p->pad_right;
    const int32_t y = pixel / out_w - p->pad_top, x = pixel % out_w - p->pad_left;
    if (y < 0 || x < 0 || y % p->stride_h || x % p->stride_w)
        return -1;
    const int32_t iy = y / p->stride_h, ix = x / p->stride_w;
    return iy < p->in_h && ix < p->in_w ? iy * p->in_w + ix : -1;
}

/* int8: the border is `value` (the code of the pad value in the input's format) */
void mcuq_pad_s8(const mcuq_pad_t *p, int32_t value, const int8_t *input, int8_t *output);
/* fp16: the border is the fp16 value with bits `value_bits` */
void mcuq_pad_f16(const mcuq_pad_t *p, uint16_t value_bits, const _Float16 *input,
                  _Float16 *output);

#endif

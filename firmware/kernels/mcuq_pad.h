/* Pad: a constant border around an HWC image, the kernel interface, whatever the
 * instruction set (NumPy twin: mcuq/ops/pad.py; kernels: firmware/kernels/<isa>/). */
#ifndef MCUQ_PAD_H
#define MCUQ_PAD_H

#include <stdint.h>

typedef struct {
    int32_t channels, in_h, in_w;
    int32_t pad_top, pad_left, pad_bottom, pad_right;
} mcuq_pad_t;

/* int8: the border is `value` (the code of the pad value in the input's format) */
void mcuq_pad_s8(const mcuq_pad_t *p, int32_t value, const int8_t *input, int8_t *output);
/* fp16: the border is the fp16 value with bits `value_bits` */
void mcuq_pad_f16(const mcuq_pad_t *p, uint16_t value_bits, const _Float16 *input,
                  _Float16 *output);

#endif

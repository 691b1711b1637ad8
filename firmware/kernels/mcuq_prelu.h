/* PReLU, a slope per channel, the kernel interface, whatever the instruction set (NumPy
 * twin: mcuq/ops/prelu.py; kernels: firmware/kernels/<isa>/). Tensors are vectors or HWC
 * images: an element's channel is its index modulo `channels`. */
#ifndef MCUQ_PRELU_H
#define MCUQ_PRELU_H

#include <stdint.h>

typedef struct {
    int32_t channels, pixels;
    int32_t in_zero_point, out_zero_point;
    int32_t pos_mult, pos_shift; /* M_pos ~ s_x / s_y */
    int32_t neg_mult, neg_shift; /* M_neg ~ s_x s_a / s_y */
} mcuq_prelu_s8_t;

void mcuq_prelu_s8(const mcuq_prelu_s8_t *p, const int8_t *slope, const int8_t *input,
                   int8_t *output);
void mcuq_prelu_f16(int32_t channels, int32_t pixels, const _Float16 *slope,
                    const _Float16 *input, _Float16 *output);

#endif

/* Mul: the element-wise product of two tensors, the kernel interface, whatever the
 * instruction set (NumPy twin: mcuq/ops/mul.py; kernels: firmware/kernels/<isa>/).
 * b is read at index i mod b_period: the size for two tensors of one shape, the channels
 * for one value per channel (an image's channels are its fastest axis in HWC). */
#ifndef MCUQ_MUL_H
#define MCUQ_MUL_H

#include <stdint.h>

typedef struct {
    int32_t size, b_period;
    int32_t a_zero_point, b_zero_point;
    int32_t mult, shift; /* M ~ s_a s_b / s_y */
    int32_t out_zero_point;
} mcuq_mul_s8_t;

void mcuq_mul_s8(const mcuq_mul_s8_t *p, const int8_t *a, const int8_t *b, int8_t *output);
void mcuq_mul_f16(int32_t size, int32_t b_period, const _Float16 *a, const _Float16 *b,
                  _Float16 *output);

#endif

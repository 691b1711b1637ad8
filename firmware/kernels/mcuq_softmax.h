/* Softmax over a vector or over each pixel's channels, the kernel interface, whatever the
 * instruction set (NumPy twin: mcuq/ops/softmax.py; kernels: firmware/kernels/<isa>/).
 * A row is `length` adjacent values: a vector, or one pixel's channels in HWC. */
#ifndef MCUQ_SOFTMAX_H
#define MCUQ_SOFTMAX_H

#include <stdint.h>

/* int8: table[d] = round(2^15 e^(-s_x d)), the layer's 256 exponentials */
void mcuq_softmax_s8(int32_t rows, int32_t length, const int32_t *table, const int8_t *input,
                     int8_t *output);
void mcuq_softmax_f16(int32_t rows, int32_t length, const _Float16 *input, _Float16 *output);

#endif

/* ReLU: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/relu.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_RELU_H
#define MCUQ_RELU_H

#include <stdint.h>

void mcuq_relu_s8(int32_t size, int32_t zero_point, const int8_t *input, int8_t *output);
void mcuq_relu_f16(int32_t size, const _Float16 *input, _Float16 *output);

#endif

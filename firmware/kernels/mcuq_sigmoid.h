/* Sigmoid: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/sigmoid.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_SIGMOID_H
#define MCUQ_SIGMOID_H

#include <stdint.h>

/* int8: output[i] = table[input[i] + 128], the layer's table */
void mcuq_sigmoid_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output);
void mcuq_sigmoid_f16(int32_t size, const _Float16 *input, _Float16 *output);

#endif

/* Pointwise: element-wise functions with constant parameters, the kernel interface,
 * whatever the instruction set (NumPy twin: mcuq/ops/pointwise.py; kernels:
 * firmware/kernels/<isa>/). */
#ifndef MCUQ_POINTWISE_H
#define MCUQ_POINTWISE_H

#include <stdint.h>

/* the function of a layer; the order of FUNCTIONS in mcuq/ops/pointwise.py */
enum mcuq_pointwise_function {
    MCUQ_POINTWISE_CLIP,
    MCUQ_POINTWISE_LEAKY_RELU,
    MCUQ_POINTWISE_HARD_SIGMOID,
    MCUQ_POINTWISE_HARD_SWISH,
    MCUQ_POINTWISE_MUL,
    MCUQ_POINTWISE_DIV,
    MCUQ_POINTWISE_ADD,
    MCUQ_POINTWISE_SUB_FROM,
};

/* int8: output[i] = table[input[i] + 128], the layer's table */
void mcuq_pointwise_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output);
/* fp16: the layer's function with constants a and b, given as fp16 bits */
void mcuq_pointwise_f16(int32_t size, int32_t function, uint16_t a_bits, uint16_t b_bits,
                        const _Float16 *input, _Float16 *output);

#endif

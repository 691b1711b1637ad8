/* Transpose: a frame's values in another order, the kernel interface, whatever the
 * instruction set (NumPy twin: mcuq/ops/transpose.py; kernels: firmware/kernels/<isa>/).
 * Output element j (C memory order) is input element sum_k i_k stride[k], (i_k) the
 * digits of j in extent[0..MCUQ_TRANSPOSE_DIMS-1], the outermost first. */
#ifndef MCUQ_TRANSPOSE_H
#define MCUQ_TRANSPOSE_H

#include <stdint.h>

#define MCUQ_TRANSPOSE_DIMS 6

/* The input offset of output element j, and its digits (for mcuq_transpose_next) */
static inline int32_t mcuq_transpose_start(const int32_t *extent, const int32_t *stride,
                                           int32_t j, int32_t *digit)
{
    int32_t offset = 0;
    for (int32_t k = MCUQ_TRANSPOSE_DIMS - 1; k >= 0; k--) {
        digit[k] = j % extent[k];
        j /= extent[k];
        offset += digit[k] * stride[k];
    }
    return offset;
}

/* The input offset of the next output element: the odometer's innermost digit steps,
 * carrying outward */
static inline int32_t mcuq_transpose_next(const int32_t *extent, const int32_t *stride,
                                          int32_t *digit, int32_t offset)
{
    for (int32_t k = MCUQ_TRANSPOSE_DIMS - 1; k >= 0; k--) {
        if (++digit[k] < extent[k])
            return offset + stride[k];
        digit[k] = 0;
        offset -= (extent[k] - 1) * stride[k];
    }
    return offset;
}

void mcuq_transpose_s8(int32_t size, const int32_t *extent, const int32_t *stride,
                       const int8_t *input, int8_t *output);
void mcuq_transpose_f16(int32_t size, const int32_t *extent, const int32_t *stride,
                        const _Float16 *input, _Float16 *output);

#endif

/* Concat: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/concat.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_CONCAT_H
#define MCUQ_CONCAT_H

#include <stdint.h>

/* Concat on the channel axis; memory is channels last, a vector one pixel */
typedef struct {
    int32_t inputs;
    int32_t outer;               /* pixels (1 for vectors) */
    const int32_t *channels;     /* [inputs] */
    const int32_t *mult;         /* [inputs] input scale -> output scale */
    const int32_t *shift;
    const int32_t *zero_point;   /* [inputs] */
    int32_t out_zero_point;
} mcuq_concat_s8_t;

typedef struct {
    int32_t inputs;
    int32_t outer;
    const int32_t *channels;
} mcuq_concat_f16_t;

void mcuq_concat_s8(const mcuq_concat_s8_t *p, const int8_t *const *inputs, int8_t *output);
void mcuq_concat_f16(const mcuq_concat_f16_t *p, const _Float16 *const *inputs,
                     _Float16 *output);

#endif

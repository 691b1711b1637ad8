/* Concat: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/concat.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_CONCAT_H
#define MCUQ_CONCAT_H

#include <stdint.h>

/* Concat: in C memory order the output is `outer` blocks, each the inputs' runs one after
 * the other (a channel concat of an HWC image: a block per pixel, a run of each input's
 * channels); a constant input is an array in the output's format (mult 2^30, shift 30,
 * zero_point the output's: copied exactly) */
typedef struct {
    int32_t inputs;
    int32_t outer;               /* blocks */
    const int32_t *runs;         /* [inputs] values of each input per block */
    const int32_t *mult;         /* [inputs] input scale -> output scale */
    const int32_t *shift;
    const int32_t *zero_point;   /* [inputs] */
    int32_t out_zero_point;
} mcuq_concat_s8_t;

typedef struct {
    int32_t inputs;
    int32_t outer;
    const int32_t *runs;
} mcuq_concat_f16_t;

void mcuq_concat_s8(const mcuq_concat_s8_t *p, const int8_t *const *inputs, int8_t *output);
void mcuq_concat_f16(const mcuq_concat_f16_t *p, const _Float16 *const *inputs,
                     _Float16 *output);

#endif

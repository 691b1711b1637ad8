/* Linear: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/linear.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_LINEAR_H
#define MCUQ_LINEAR_H

#include <stdint.h>

#include "mcuq_stream.h"

typedef struct {
    const int8_t *weight;  /* [ceil(out_features / 4)][in_features][4]: channels in groups
                              of 4 (zero-padded), symmetric per channel */
    const int32_t *bias;   /* [out_features], input zero point folded in */
    const int32_t *mult;   /* [out_features] requantization multiplier */
    const int32_t *shift;  /* [out_features] requantization right shift */
    int32_t in_features;
    int32_t out_features;
    int32_t out_zero_point;
    int32_t act_min;       /* the code of a fused ReLU's or Clip's lower bound, else -128 */
    int32_t act_max;       /* the code of a fused Clip's upper bound, else 127 */
    int32_t requant_zp8;   /* 1: every shift is 33 to 54 and the range all int8, so the
                              kernels requantize from registers (mcuq_requant_zp8) */
    /* outliers kept aside (mcuq/outliers.py), in row order; null pointers without */
    const int16_t *outlier_value;   /* each entry's code, at its row's weight scale */
    const uint8_t *outlier_gap;     /* its column minus the previous entry's in the row */
    const uint16_t *outlier_count;  /* [out_features] entries per row */
} mcuq_linear_s8_t;

void mcuq_linear_s8(const mcuq_linear_s8_t *p, const int8_t *input, int8_t *output);
/* The same without outliers, with weight, bias, mult and shift streamed into L1
 * (mcuq_stream.h), in that order; a unit is a group of four output channels. */
void mcuq_linear_s8_streamed(const mcuq_linear_s8_t *p, const mcuq_stream_t *s,
                             const int8_t *input, int8_t *output);

typedef struct {
    const _Float16 *weight;  /* [ceil(out_features / 4)][in_features][4], as int8 */
    const _Float16 *bias;    /* [out_features] */
    int32_t in_features;
    int32_t out_features;
    uint16_t clamp_lo;       /* the fused activation's bounds, fp16 bits (-inf, inf: none; */
    uint16_t clamp_hi;       /* 0, inf: ReLU; mcuq/ops/_activation.py) */
} mcuq_linear_f16_t;

void mcuq_linear_f16(const mcuq_linear_f16_t *p, const _Float16 *input, _Float16 *output);

#endif

/* GRU: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/gru.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_GRU_H
#define MCUQ_GRU_H

#include <stdint.h>

#include "mcuq_recurrent.h"
#include "mcuq_stream.h"

typedef struct {
    mcuq_gates_s8_t gates;   /* r, z, n */
    const int16_t *h2q;           /* [256]: int8 h -> Q15, at h + 128 */
    int32_t q2h_mult, q2h_shift;  /* Q15 -> int8 h */
    int32_t linear_before_reset;  /* 1: PyTorch's n; 0: n from R_n (r h) */
} mcuq_gru_s8_t;

typedef struct {
    mcuq_rnn_f16_t rnn;           /* r, z, n */
    int32_t linear_before_reset;
} mcuq_gru_f16_t;

/* One frame: reads h ([hidden]), writes output and then h := output. `work` is the
 * layer's scratch (linear_before_reset=0 only): every unit's r h, z and gx_n, which
 * the cores share between the two phases of that form. */
void mcuq_gru_s8(const mcuq_gru_s8_t *p, const int8_t *input, int8_t *h, int8_t *output,
                 uint8_t *work);
/* PyTorch's form (linear_before_reset=1) with w_ih, w_hh and rows streamed into L1
 * (mcuq_stream.h), in that order. */
void mcuq_gru_s8_streamed(const mcuq_gru_s8_t *p, const mcuq_stream_t *s, const int8_t *input,
                          int8_t *h, int8_t *output);
void mcuq_gru_f16(const mcuq_gru_f16_t *p, const _Float16 *input, _Float16 *h,
                  _Float16 *output, _Float16 *work);

#endif

/* GRU: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/gru.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_GRU_H
#define MCUQ_GRU_H

#include <stdint.h>

#include "mcuq_recurrent.h"

typedef struct {
    mcuq_gates_s8_t gates;   /* r, z, n */
    int32_t h2q_mult, h2q_shift;  /* int8 h -> Q15 */
    int32_t q2h_mult, q2h_shift;  /* Q15 -> int8 h */
} mcuq_gru_s8_t;

/* One frame: reads h (int8 [hidden]), writes output and then h := output. */
void mcuq_gru_s8(const mcuq_gru_s8_t *p, const int8_t *input, int8_t *h, int8_t *output);

void mcuq_gru_f16(const mcuq_rnn_f16_t *p, const _Float16 *input, _Float16 *h,
                  _Float16 *output);

#endif

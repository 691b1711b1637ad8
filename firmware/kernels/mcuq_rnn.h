/* Vanilla RNN (tanh): the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/rnn.py; kernels: firmware/kernels/<isa>/). The weights are in a Linear's layout
 * of the export's instruction set (groups of four units, mcuq/layouts.py "matvec"). */
#ifndef MCUQ_RNN_H
#define MCUQ_RNN_H

#include <stdint.h>

#include "mcuq_recurrent.h"

typedef struct {
    mcuq_gates_s8_t gates;        /* one gate; rows: [hidden][MCUQ_ROW_FIELDS] */
    int32_t q2h_mult, q2h_shift;  /* Q15 -> int8 h */
} mcuq_rnn_s8_t;

/* One frame: reads h ([hidden]), writes output and then h := output. */
void mcuq_rnn_s8(const mcuq_rnn_s8_t *p, const int8_t *input, int8_t *h, int8_t *output);
void mcuq_rnn_f16(const mcuq_rnn_f16_t *p, const _Float16 *input, _Float16 *h,
                  _Float16 *output);

#endif

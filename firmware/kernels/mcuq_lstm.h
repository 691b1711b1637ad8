/* LSTM: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/lstm.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_LSTM_H
#define MCUQ_LSTM_H

#include <stdint.h>

#include "mcuq_recurrent.h"
#include "mcuq_stream.h"

typedef struct {
    mcuq_gates_s8_t gates;   /* i, f, g, o */
    int32_t cell_frac;       /* fraction bits of the int16 cell state */
    int32_t q30_mult, q30_shift;  /* Q30 -> int8 h */
    const int32_t *peephole; /* [3][hidden] Q12 (i, f, o), or 0 without peepholes */
} mcuq_lstm_s8_t;

typedef struct {
    mcuq_rnn_f16_t rnn;          /* i, f, g, o */
    const _Float16 *peephole;    /* [3][hidden] (i, f, o), or 0 without peepholes */
} mcuq_lstm_f16_t;

/* One frame: reads h, updates c (int16 [hidden]) in place, writes output, h := output. */
void mcuq_lstm_s8(const mcuq_lstm_s8_t *p, const int8_t *input, int8_t *h, int16_t *c,
                  int8_t *output);

/* The same with w_ih, w_hh and rows streamed into L1 (mcuq_stream.h), in that order. */
void mcuq_lstm_s8_streamed(const mcuq_lstm_s8_t *p, const mcuq_stream_t *s,
                           const int8_t *input, int8_t *h, int16_t *c, int8_t *output);

void mcuq_lstm_f16(const mcuq_lstm_f16_t *p, const _Float16 *input, _Float16 *h, _Float16 *c,
                   _Float16 *output);

#endif

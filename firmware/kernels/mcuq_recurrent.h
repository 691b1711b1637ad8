/* What the GRU and LSTM kernels share: gate weights and the fp16 layer struct: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/_recurrent.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_RECURRENT_H
#define MCUQ_RECURRENT_H

#include <stdint.h>

/* Gate pre-activations of a recurrent layer, PyTorch gate order. Weights are unit-major
 * with the gates of a unit interleaved; per-row vectors are gate-major (row g*hidden+j). */
typedef struct {
    const int8_t *w_ih;      /* [hidden][in_features][gates] */
    const int8_t *w_hh;      /* [hidden][hidden][gates] */
    const int32_t *b_ih;     /* [gates * hidden], input zero point folded in */
    const int32_t *b_hh;
    const int32_t *mult_ih;  /* to Q12 */
    const int32_t *shift_ih;
    const int32_t *mult_hh;
    const int32_t *shift_hh;
    int32_t in_features;
    int32_t hidden;
} mcuq_gates_s8_t;

/* fp16 recurrent layers: PyTorch gate order; weights interleaved as in the int8 ones */
typedef struct {
    const _Float16 *w_ih;  /* [hidden][in_features][gates] */
    const _Float16 *w_hh;  /* [hidden][hidden][gates] */
    const _Float16 *b_ih;  /* [gates * hidden], gate-major */
    const _Float16 *b_hh;
    int32_t in_features;
    int32_t hidden;
} mcuq_rnn_f16_t;

#endif

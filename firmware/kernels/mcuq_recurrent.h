/* What the GRU and LSTM kernels share: gate weights and the fp16 layer struct: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/_recurrent.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_RECURRENT_H
#define MCUQ_RECURRENT_H

#include <stdint.h>

/* The fields of an int8 gate row's record (mcuq/ops/_recurrent.py, ROW_FIELDS): its two
 * biases (the input zero point folded into b_ih) and the two requantizations of its sums
 * to Q12, each as mult and the steps pre, post of mcuq_requant_steps. */
enum {
    MCUQ_ROW_B_IH, MCUQ_ROW_B_HH, MCUQ_ROW_MULT_IH, MCUQ_ROW_PRE_IH, MCUQ_ROW_POST_IH,
    MCUQ_ROW_MULT_HH, MCUQ_ROW_PRE_HH, MCUQ_ROW_POST_HH, MCUQ_ROW_FIELDS
};

/* Gate pre-activations of a recurrent layer, PyTorch gate order. Weights are unit-major
 * with the gates of a unit interleaved, and so are the row records: gate q of unit j is
 * record j * gates + q, so a unit's records are read at constant offsets from one pointer. */
typedef struct {
    const int8_t *w_ih;      /* [hidden][in_features][gates] */
    const int8_t *w_hh;      /* [hidden][hidden][gates] */
    const int32_t *rows;     /* [hidden][gates][MCUQ_ROW_FIELDS] */
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

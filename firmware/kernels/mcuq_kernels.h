/* mcuq kernel library: the interface of every kernel, whatever the instruction set.
 * One kernel per file, firmware/kernels/<isa>/<kind>_s8.c or <kind>_f16.c, named
 * mcuq_<kind>_s8 / mcuq_<kind>_f16 after what it outputs; parameters in one const
 * struct per layer. Each kernel's NumPy twin is named in its source file; the
 * generated model.c fills the structs and calls the kernels in order. Weight arrays
 * are in the layout of the export's instruction set (mcuq/ops/layouts.py); the
 * comments give the rv32 one. */
#ifndef MCUQ_KERNELS_H
#define MCUQ_KERNELS_H

#include <stdint.h>

typedef struct {
    const int8_t *weight;  /* [ceil(out_features / 4)][in_features][4]: channels in groups
                              of 4 (zero-padded), symmetric per channel */
    const int32_t *bias;   /* [out_features], input zero point folded in */
    const int32_t *mult;   /* [out_features] requantization multiplier */
    const int32_t *shift;  /* [out_features] requantization right shift */
    int32_t in_features;
    int32_t out_features;
    int32_t out_zero_point;
    int32_t act_min;       /* out_zero_point with a fused ReLU, else -128 */
} mcuq_linear_s8_t;

void mcuq_linear_s8(const mcuq_linear_s8_t *p, const int8_t *input, int8_t *output);

typedef struct {
    const _Float16 *weight;  /* [ceil(out_features / 4)][in_features][4], as int8 */
    const _Float16 *bias;    /* [out_features] */
    int32_t in_features;
    int32_t out_features;
    int32_t relu;            /* 1: fused ReLU */
} mcuq_linear_f16_t;

void mcuq_linear_f16(const mcuq_linear_f16_t *p, const _Float16 *input, _Float16 *output);

void mcuq_relu_s8(int32_t size, int32_t zero_point, const int8_t *input, int8_t *output);
void mcuq_relu_f16(int32_t size, const _Float16 *input, _Float16 *output);

/* int8: output[i] = table[input[i] + 128], the layer's table */
void mcuq_sigmoid_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output);
void mcuq_sigmoid_f16(int32_t size, const _Float16 *input, _Float16 *output);
void mcuq_tanh_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output);
void mcuq_tanh_f16(int32_t size, const _Float16 *input, _Float16 *output);

/* precision boundaries: int8 -> fp16 and fp16 -> int8 (scale and zero point of the int8 side) */
void mcuq_convert_f16(int32_t size, int32_t zero_point, float scale, const int8_t *input,
                      _Float16 *output);
void mcuq_convert_s8(int32_t size, int32_t zero_point, float inv_scale, const _Float16 *input,
                     int8_t *output);

#define MCUQ_ADD_SHIFT 16 /* fraction bits of the rescaled int8 Add inputs */

typedef struct {
    int32_t size;
    int32_t a_zero_point, a_mult, a_shift;  /* a -> output scale 2^16 */
    int32_t b_zero_point, b_mult, b_shift;
    int32_t out_zero_point;
} mcuq_add_s8_t;

void mcuq_add_s8(const mcuq_add_s8_t *p, const int8_t *a, const int8_t *b, int8_t *output);
void mcuq_add_f16(int32_t size, const _Float16 *a, const _Float16 *b, _Float16 *output);

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

typedef struct {
    mcuq_gates_s8_t gates;   /* r, z, n */
    int32_t h2q_mult, h2q_shift;  /* int8 h -> Q15 */
    int32_t q2h_mult, q2h_shift;  /* Q15 -> int8 h */
} mcuq_gru_s8_t;

/* One frame: reads h (int8 [hidden]), writes output and then h := output. */
void mcuq_gru_s8(const mcuq_gru_s8_t *p, const int8_t *input, int8_t *h, int8_t *output);

typedef struct {
    mcuq_gates_s8_t gates;   /* i, f, g, o */
    int32_t cell_frac;       /* fraction bits of the int16 cell state */
    int32_t q30_mult, q30_shift;  /* Q30 -> int8 h */
} mcuq_lstm_s8_t;

/* One frame: reads h, updates c (int16 [hidden]) in place, writes output, h := output. */
void mcuq_lstm_s8(const mcuq_lstm_s8_t *p, const int8_t *input, int8_t *h, int16_t *c,
                  int8_t *output);

/* fp16 recurrent layers: PyTorch gate order; weights interleaved as in the int8 ones */
typedef struct {
    const _Float16 *w_ih;  /* [hidden][in_features][gates] */
    const _Float16 *w_hh;  /* [hidden][hidden][gates] */
    const _Float16 *b_ih;  /* [gates * hidden], gate-major */
    const _Float16 *b_hh;
    int32_t in_features;
    int32_t hidden;
} mcuq_rnn_f16_t;

/* One frame: reads h, writes output, then h := output (and c updated in place). */
void mcuq_gru_f16(const mcuq_rnn_f16_t *p, const _Float16 *input, _Float16 *h,
                  _Float16 *output);
void mcuq_lstm_f16(const mcuq_rnn_f16_t *p, const _Float16 *input, _Float16 *h, _Float16 *c,
                   _Float16 *output);

#endif

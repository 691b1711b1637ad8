/* Conv2d and depthwise Conv2d: the kernel interfaces, whatever the instruction set
 * (NumPy twins: mcuq/ops/conv2d.py, mcuq/ops/depthwise_conv2d.py; kernels:
 * firmware/kernels/<isa>/). Images are HWC: pixel (y, x) holds its C channels at
 * ((y * W) + x) * C. Weight arrays are in the layout of the export's instruction set
 * (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_CONV2D_H
#define MCUQ_CONV2D_H

#include <stdint.h>

#include "mcuq_linear.h"

/* Where a window of kernel_h x kernel_w taps lies for output pixel (oy, ox): its top-left
 * tap is input pixel (oy * stride_h - pad_top, ox * stride_w - pad_left), tap (ky, kx)
 * is dilation_h ky rows and dilation_w kx columns from it; taps outside the image are
 * padding. */
typedef struct {
    int32_t in_channels, in_h, in_w;
    int32_t out_h, out_w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t dilation_h, dilation_w;
} mcuq_window_t;

typedef struct {
    mcuq_linear_s8_t matvec;  /* in_features = kernel_h * kernel_w * in_channels (the
                                 column, taps in (ky, kx, c) order), out_features = output
                                 channels; weight [ceil(out / 4)][column][4] */
    mcuq_window_t window;
    int32_t in_zero_point;    /* the value of a padding tap */
    int32_t in_place;         /* 1x1, no padding: the input pixel is the column */
    const int32_t *taps;      /* a map of fewer than 2 MCUQ_MAX_CORES output pixels: per
                                 pixel and window tap (column order), the input byte of
                                 the tap's values, or -1 for padding; else null */
} mcuq_conv2d_s8_t;

/* column: scratch of MCUQ_MAX_CORES columns, each rounded up to a multiple of 4 */
void mcuq_conv2d_s8(const mcuq_conv2d_s8_t *p, const int8_t *input, int8_t *output,
                    int8_t *column);

/* Coarse & fine weight splitting (mcuq/ops/conv2d_cfws.py): `conv` holds the fine
 * kernel (outer taps plus the centre's rounding residual), `coarse` the centre taps,
 * applied to each window's centre pixel and rescaled to the fine accumulator. */
typedef struct {
    mcuq_conv2d_s8_t conv;
    const int8_t *coarse;         /* [ceil(out / 4)][in_channels][4], as matvec weights;
                                     with `diagonal`, [out]: a 1x1 kernel's diagonal */
    const int32_t *coarse_bias;   /* [out]: -zp_x sum of the coarse row */
    const int32_t *coarse_mult;   /* [out]: coarse scale / fine scale */
    const int32_t *coarse_shift;  /* [out] */
    int32_t diagonal;             /* 1: coarse[n] applies to input channel n only */
} mcuq_conv2d_cfws_s8_t;

void mcuq_conv2d_cfws_s8(const mcuq_conv2d_cfws_s8_t *p, const int8_t *input, int8_t *output,
                         int8_t *column);

typedef struct {
    mcuq_linear_f16_t matvec;  /* as for int8; a padding tap is +0 */
    mcuq_window_t window;
    int32_t in_place;
} mcuq_conv2d_f16_t;

void mcuq_conv2d_f16(const mcuq_conv2d_f16_t *p, const _Float16 *input, _Float16 *output,
                     _Float16 *column);

typedef struct {
    const int8_t *weight;   /* [kernel_h * kernel_w][channels], symmetric per channel;
                               3x3 on a map of 2 pixels or more: [channels][3][4], a
                               word per window row (mcuq/layouts.py taps_rows); from an
                               input of at most 4 pixels: [channels][out pixel][4], the
                               taps meeting each input pixel (mcuq_depthwise_word_map) */
    const int32_t *bias;    /* [channels], input zero point folded in; from an input of
                               at most 4 pixels [channels][out pixel], each output's
                               padding taps folded in as well */
    const int32_t *mult;    /* [channels] requantization multiplier */
    const int32_t *shift;   /* [channels] requantization right shift */
    mcuq_window_t window;   /* in_channels = channels */
    int32_t in_zero_point;
    int32_t out_zero_point;
    int32_t act_min;        /* the code of a fused ReLU's or Clip's lower bound, else -128 */
    int32_t act_max;        /* the code of a fused Clip's upper bound, else 127 */
    int32_t requant_mul;    /* which channels take the one-multiply requantization
                               (mcuq_requant_mul8: the export proved acc mult and the zero
                               point, shifted, stay in int32, and the range is all int8):
                               2 every channel, 1 those of shift <= 31, 0 none. The loops
                               over a chunk of channels need 2, the column loops 1 */
    int32_t planes;         /* the 3x3 kernel's planes per core (a chunk of channels at a
                               time): a multiple of 4 where four fit in the scratch
                               (gathered four at a time), else 1 */
} mcuq_depthwise_conv2d_s8_t;

/* work: scratch of MCUQ_MAX_CORES rows of channels (rounded up to even) accumulators */
void mcuq_depthwise_conv2d_s8(const mcuq_depthwise_conv2d_s8_t *p, const int8_t *input,
                              int8_t *output, int32_t *work);

/* Coarse & fine weight splitting of a depthwise kernel (mcuq/ops/depthwise_conv2d_cfws.py):
 * `conv` holds the fine kernel (outer taps plus the centre's rounding residual), `coarse`
 * one centre code per channel, applied to each window's centre pixel and rescaled to the
 * fine accumulator. */
typedef struct {
    mcuq_depthwise_conv2d_s8_t conv;
    const int8_t *coarse;         /* [channels] */
    const int32_t *coarse_bias;   /* [channels]: -zp_x coarse */
    const int32_t *coarse_mult;   /* [channels]: coarse scale / fine scale */
    const int32_t *coarse_shift;  /* [channels] */
} mcuq_depthwise_conv2d_cfws_s8_t;

void mcuq_depthwise_conv2d_cfws_s8(const mcuq_depthwise_conv2d_cfws_s8_t *p,
                                   const int8_t *input, int8_t *output, int32_t *work);

typedef struct {
    const _Float16 *weight;  /* [kernel_h * kernel_w][channels] */
    const _Float16 *bias;    /* [channels] */
    mcuq_window_t window;
    uint16_t clamp_lo;       /* the fused activation's bounds, fp16 bits, as for Linear */
    uint16_t clamp_hi;
} mcuq_depthwise_conv2d_f16_t;

void mcuq_depthwise_conv2d_f16(const mcuq_depthwise_conv2d_f16_t *p, const _Float16 *input,
                               _Float16 *output, _Float16 *work);

#endif

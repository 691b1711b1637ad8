/* The matrix-vector core of Linear and Conv2d (NumPy twin: mcuq/ops/_matvec.py), for
 * one input vector and the output channel groups [first, last) of a mcuq_linear_*_t:
 * Linear gives each core a share of the groups, Conv2d gives each core a share of the
 * pixels and runs every group on each pixel's im2col column.
 *
 * int8:  acc[n] = sum_k Wq[n][k] xq[k] + bq[n]       (int32; zp_x folded into bq)
 *        y[n]   = clamp(zp_y + requant(acc[n], M[n]), act_min, act_max)
 * fp16:  acc = b[n]; for k = 0 .. K-1: p = fp16(W[n][k] x[k]); acc = fp16(acc + p)
 *        y[n] = acc (or acc < 0 ? 0 : acc)
 * Channels come in groups of four, stored interleaved (the last group padded with zero
 * rows), and two groups run in one pass when there are two left: one input load feeds
 * eight MACs. Outliers kept aside (mcuq/outliers.py) are int16 codes at the rows' scale,
 * added to the same int32 sums after the dense dot products: Wq = dense + side list. */
#ifndef MCUQ_MATVEC_H
#define MCUQ_MATVEC_H

#include "mcuq_fixedpoint.h"
#include "mcuq_fp16.h"
#include "mcuq_isa.h"
#include "mcuq_linear.h"
#include "mcuq_runtime.h"

/* The entries of the side list before row n. */
static inline int32_t mcuq_outlier_entry(const uint16_t *count, int32_t n)
{
    int32_t entry = 0;
    for (int32_t r = 0; r < n; r++)
        entry += count[r];
    return entry;
}

/* acc[r] += the outliers of row n + r times their inputs, for `rows` rows from the side
 * list's entry *entry (advanced past them): col += gap; acc += value x[col]. Exact int32
 * products, as in the dense part; a filler entry (gap 255, value 0) adds nothing. */
static inline void mcuq_outliers_s8(const mcuq_linear_s8_t *p, int32_t n, int32_t rows,
                                    const int8_t *x, int32_t *acc, int32_t *entry)
{
    int32_t e = *entry;
    for (int32_t r = 0; r < rows; r++) {
        int32_t col = 0, sum = 0;
        for (int32_t end = e + p->outlier_count[n + r]; e < end; e++) {
            col += p->outlier_gap[e];
            sum += (int32_t)p->outlier_value[e] * x[col];
        }
        acc[r] += sum;
    }
    *entry = e;
}

/* channel n + r's output from its sum (which started from the bias), for
 * mcuq_matvec_rows_s8's fast blocks: constant indices keep the sums in registers */
#define MCUQ_MATVEC_OUT(r)                                                                \
    do {                                                                                  \
        const int32_t n_ = shift[n + (r)] - 32;                                           \
        output[n + (r)] = (int8_t)mcuq_requant_zp8(acc[r], mult[n + (r)], n_, zp * (1 << n_)); \
    } while (0)

/* The loop of mcuq_matvec_s8, with or without a side list (a constant at each call, so
 * each form is compiled on its own and the dense one keeps its registers). */
static inline __attribute__((always_inline)) void
mcuq_matvec_rows_s8(const mcuq_linear_s8_t *p, int32_t first, int32_t last, const int8_t *input,
                    int8_t *output, const int32_t with_outliers)
{
    /* the struct's fields in locals: the output stores could alias them, and reloading
     * them for every channel costs more than the requantization itself */
    const int32_t k = p->in_features, row = MCUQ_ROW_S8(k), out_features = p->out_features;
    const int32_t zp = p->out_zero_point, lo = p->act_min - zp, hi = p->act_max - zp;
    const int8_t *const weight = p->weight;
    const int32_t *const bias = p->bias, *const mult = p->mult, *const shift = p->shift;
    int32_t entry = with_outliers ? mcuq_outlier_entry(p->outlier_count, 4 * first) : 0;
    const int32_t fast = !with_outliers && p->requant_zp8;
    for (int32_t group = first; group < last; group += 2) {
        const int32_t n = 4 * group;
        const int32_t channels = last - group < 2 ? 4 : 8;
        const int32_t rows = out_features - n < channels ? out_features - n : channels;
        if (fast && rows == 8) {  /* the sums from the biases, no arrays in memory */
            int32_t acc[8];
            for (int32_t r = 0; r < 8; r++)
                acc[r] = bias[n + r];
            mcuq_dot4i2_s8(weight + n * row, weight + (n + 4) * row, input, k, acc, acc + 4);
            MCUQ_MATVEC_OUT(0);
            MCUQ_MATVEC_OUT(1);
            MCUQ_MATVEC_OUT(2);
            MCUQ_MATVEC_OUT(3);
            MCUQ_MATVEC_OUT(4);
            MCUQ_MATVEC_OUT(5);
            MCUQ_MATVEC_OUT(6);
            MCUQ_MATVEC_OUT(7);
            continue;
        }
        if (fast && rows == 4) {  /* the same for a last block of 4 */
            int32_t acc[4];
            for (int32_t r = 0; r < 4; r++)
                acc[r] = bias[n + r];
            mcuq_dot4i_s8(weight + n * row, input, k, acc);
            MCUQ_MATVEC_OUT(0);
            MCUQ_MATVEC_OUT(1);
            MCUQ_MATVEC_OUT(2);
            MCUQ_MATVEC_OUT(3);
            continue;
        }
        int32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (channels == 8)
            mcuq_dot4i2_s8(weight + n * row, weight + (n + 4) * row, input, k, acc, acc + 4);
        else
            mcuq_dot4i_s8(weight + n * row, input, k, acc);
        if (with_outliers)
            mcuq_outliers_s8(p, n, rows, input, acc, &entry);
        for (int32_t r = 0; r < rows; r++) {
            const int32_t y = mcuq_requant(bias[n + r] + acc[r], mult[n + r], shift[n + r]);
            /* clamp before adding zp so the sum cannot overflow */
            output[n + r] = (int8_t)(mcuq_clamp32(y, lo, hi) + zp);
        }
    }
}

static inline __attribute__((always_inline)) void
mcuq_matvec_s8(const mcuq_linear_s8_t *p, int32_t first, int32_t last, const int8_t *input,
               int8_t *output)
{
    if (p->outlier_count)
        mcuq_matvec_rows_s8(p, first, last, input, output, 1);
    else
        mcuq_matvec_rows_s8(p, first, last, input, output, 0);
}

static inline __attribute__((always_inline)) void
mcuq_matvec_f16(const mcuq_linear_f16_t *p, int32_t first, int32_t last, const _Float16 *input,
                _Float16 *output)
{
    const int32_t k = p->in_features;
    const _Float16 lo = mcuq_f16_of_bits(p->clamp_lo), hi = mcuq_f16_of_bits(p->clamp_hi);
    for (int32_t group = first; group < last; group += 2) {
        const int32_t n = 4 * group;
        const int32_t channels = last - group < 2 ? 4 : 8;
        const int32_t rows = p->out_features - n < channels ? p->out_features - n : channels;
        _Float16 acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int32_t r = 0; r < rows; r++)
            acc[r] = p->bias[n + r];
        if (channels == 8)
            mcuq_dot4i2_f16(p->weight + n * k, p->weight + (n + 4) * k, input, k, acc, acc + 4);
        else
            mcuq_dot4i_f16(p->weight + n * k, input, k, acc);
        for (int32_t r = 0; r < rows; r++)
            output[n + r] = mcuq_f16_canonical(mcuq_f16_clamp(acc[r], lo, hi));
    }
}

/* The work split of the convolutions: each core takes a share of the output pixels and
 * every channel group, or, when there are fewer pixels than cores (the last stages of
 * a classifier, down to 1x1), every pixel and a share of the channel groups (groups of
 * four for the matvec convolutions, single channels for the depthwise ones). */
static inline void mcuq_conv2d_split(int32_t pixels, int32_t groups, int32_t *first,
                                     int32_t *last, int32_t *group_first, int32_t *group_last)
{
    if (pixels >= mcuq_core_count()) {
        mcuq_split(pixels, first, last);
        *group_first = 0;
        *group_last = groups;
    } else {
        *first = 0;
        *last = pixels;
        mcuq_split(groups, group_first, group_last);
    }
}

#endif

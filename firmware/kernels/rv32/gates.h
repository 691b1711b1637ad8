/* Gate pre-activations shared by the rv32 GRU and LSTM kernels (NumPy twin:
 * mcuq/ops/_recurrent.py); they read the weights in the rv32 gate layout.
 *
 * float:  gx = W_ih x + b_ih,  gh = W_hh h + b_hh
 * fp16:   the same sums in fp16, each row in k order (mcuq_fp16.h)
 * int8:   gx = requant(W_ih_q xq + b_ih_q, M_ih),  gh = requant(W_hh_q hq + b_hh_q, M_hh)
 *         both in Q12 (int32); M ~ s_x s_w 2^12 and s_h s_w 2^12 per row.
 */
#ifndef MCUQ_GATES_H
#define MCUQ_GATES_H

#include "mcuq_fixedpoint.h"
#include "mcuq_fp16.h"
#include "mcuq_isa.h"
#include "mcuq_recurrent.h"

/* the record of gate q of unit j */
static inline const int32_t *mcuq_row_record(const mcuq_gates_s8_t *g, int32_t gates, int32_t q,
                                             int32_t j)
{
    return g->rows + (j * gates + q) * MCUQ_ROW_FIELDS;
}

/* The bias of gate q of unit j, where a sum starts (hh: 0 for W_ih x, 1 for W_hh h):
 * int8 from the row records, fp16 from the gate-major bias vectors. */
static inline int32_t mcuq_bias_s8(const mcuq_gates_s8_t *p, int32_t gates, int32_t q, int32_t j,
                                   int32_t hh)
{
    return mcuq_row_record(p, gates, q, j)[hh ? MCUQ_ROW_B_HH : MCUQ_ROW_B_IH];
}

static inline _Float16 mcuq_bias_f16(const mcuq_rnn_f16_t *p, int32_t gates, int32_t q,
                                     int32_t j, int32_t hh)
{
    (void)gates;
    return (hh ? p->b_hh : p->b_ih)[q * p->hidden + j];
}

/* gx = b_ih + W_ih x and gh = b_hh + W_hh h for every gate of hidden units
 * j .. j + units - 1 (units = 1 or 2; unit u's gate q goes to gx[u * gates + q]; its rows
 * are q H + j + u). The gate rows of one unit share their inputs and are stored
 * interleaved, and two units run in one pass, so one load of x[k] (or h[k]) feeds 6 or
 * 8 rows. One body for both precisions: P the parameter struct, T the element type,
 * A the accumulator type, S the dot-product suffix, BIAS the bias accessor. */
#define MCUQ_BLOCK_SUMS(NAME, P, T, A, S, ROW, BIAS)                                         \
    static inline __attribute__((always_inline)) void NAME(                              \
        const P *p, int32_t gates, int32_t j, int32_t units, const T *x, const T *h,     \
        A *gx, A *gh)                                                                    \
    {                                                                                    \
        const int32_t k = p->in_features, hid = p->hidden;                               \
        _Pragma("GCC unroll 2") for (int32_t u = 0; u < units; u++)                      \
            _Pragma("GCC unroll 4") for (int32_t q = 0; q < gates; q++) {                \
                gx[u * gates + q] = BIAS(p, gates, q, j + u, 0);                         \
                gh[u * gates + q] = BIAS(p, gates, q, j + u, 1);                         \
            }                                                                            \
        const int32_t rk = ROW(k), rh = ROW(hid);                                        \
        const T *wx = p->w_ih + j * rk * gates, *wh = p->w_hh + j * rh * gates;          \
        if (units == 2 && gates == 4) {                                                  \
            mcuq_dot4i2_##S(wx, wx + rk * 4, x, k, gx, gx + 4);                           \
            mcuq_dot4i2_##S(wh, wh + rh * 4, h, hid, gh, gh + 4);                       \
        } else if (units == 2) {                                                         \
            mcuq_dot3i2_##S(wx, wx + rk * 3, x, k, gx, gx + 3);                           \
            mcuq_dot3i2_##S(wh, wh + rh * 3, h, hid, gh, gh + 3);                       \
        } else if (gates == 4) {                                                         \
            mcuq_dot4i_##S(wx, x, k, gx);                                                \
            mcuq_dot4i_##S(wh, h, hid, gh);                                              \
        } else {                                                                         \
            mcuq_dot3i_##S(wx, x, k, gx);                                                \
            mcuq_dot3i_##S(wh, h, hid, gh);                                              \
        }                                                                                \
    }
MCUQ_BLOCK_SUMS(mcuq_block_sums_s8, mcuq_gates_s8_t, int8_t, int32_t, s8, MCUQ_ROW_S8,
                mcuq_bias_s8)
/* fp16: each row summed in k order (mcuq_fp16.h); these are the gate inputs */
MCUQ_BLOCK_SUMS(mcuq_block_gates_f16, mcuq_rnn_f16_t, _Float16, _Float16, f16, MCUQ_ROW_F16,
                mcuq_bias_f16)

/* a gate row's sums in Q12: W_ih x + b_ih (sx) and W_hh h + b_hh (sh) requantized */
static inline __attribute__((always_inline)) int32_t mcuq_requant_ih(const int32_t *row, int32_t sx)
{
    return mcuq_requant_steps(sx, row[MCUQ_ROW_MULT_IH], row[MCUQ_ROW_PRE_IH],
                              row[MCUQ_ROW_POST_IH]);
}

static inline __attribute__((always_inline)) int32_t mcuq_requant_hh(const int32_t *row, int32_t sh)
{
    return mcuq_requant_steps(sh, row[MCUQ_ROW_MULT_HH], row[MCUQ_ROW_PRE_HH],
                              row[MCUQ_ROW_POST_HH]);
}

/* int8: the sums above, each row requantized to Q12 */
/* always inlined: the GRU kernel calls it from both of its forms, and a call in the unit
 * loop costs about 20 instructions per unit */
static inline __attribute__((always_inline)) void mcuq_block_gates(
    const mcuq_gates_s8_t *g, int32_t gates, int32_t j, int32_t units, const int8_t *x,
    const int8_t *h, int32_t *gx, int32_t *gh)
{
    mcuq_block_sums_s8(g, gates, j, units, x, h, gx, gh);
    /* unrolled: units and gates are constants after inlining, and the sums stay in
     * registers */
#pragma GCC unroll 2
    for (int32_t u = 0; u < units; u++)
#pragma GCC unroll 4
        for (int32_t q = 0; q < gates; q++) {
            const int32_t *row = mcuq_row_record(g, gates, q, j + u), i = u * gates + q;
            gx[i] = mcuq_requant_ih(row, gx[i]);
            gh[i] = mcuq_requant_hh(row, gh[i]);
        }
}

/* gx + gh in Q12, saturated to int32 */
static inline int32_t mcuq_gate_sum(int32_t gx, int32_t gh)
{
    return mcuq_sat32((int64_t)gx + gh);
}

/* gate_sum(requant_ih(sx), requant_hh(sh)) of one gate row: when both take the
 * one-multiply form (post > 0, the common case) each term is at most 2^29 in magnitude,
 * so their sum needs no saturation */
static inline __attribute__((always_inline)) int32_t mcuq_gate_of(const int32_t *row, int32_t sx,
                                                                  int32_t sh)
{
    const int32_t post_ih = row[MCUQ_ROW_POST_IH], post_hh = row[MCUQ_ROW_POST_HH];
    if (__builtin_expect((post_ih > 0) & (post_hh > 0), 1))
        return mcuq_mulh_round(sx * (1 << row[MCUQ_ROW_PRE_IH]), row[MCUQ_ROW_MULT_IH], post_ih)
               + mcuq_mulh_round(sh * (1 << row[MCUQ_ROW_PRE_HH]), row[MCUQ_ROW_MULT_HH], post_hh);
    return mcuq_gate_sum(mcuq_requant_ih(row, sx), mcuq_requant_hh(row, sh));
}

#endif

/* Gate pre-activations shared by GRU and LSTM (NumPy twin: mcuq/ops/recurrent.py).
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
#include "mcuq_kernels.h"

/* gx, gh of every gate of hidden units j .. j + units - 1 (units = 1 or 2; unit u's gate q
 * goes to gx[u * gates + q]; its rows are q H + j + u). The gate rows of one unit share
 * their inputs and are stored interleaved, and two units run in one pass, so one load
 * of x[k] (or h[k]) feeds 6 or 8 rows. */
static inline void mcuq_block_gates(const mcuq_gates_s8_t *g, int32_t gates, int32_t j,
                                    int32_t units, const int8_t *x, const int8_t *h,
                                    int32_t *gx, int32_t *gh)
{
    const int32_t k = g->in_features, hid = g->hidden;
    for (int32_t u = 0; u < units; u++)
        for (int32_t q = 0; q < gates; q++) {
            gx[u * gates + q] = g->b_ih[q * hid + j + u];
            gh[u * gates + q] = g->b_hh[q * hid + j + u];
        }
    const int8_t *wx = g->w_ih + j * k * gates, *wh = g->w_hh + j * hid * gates;
    if (units == 2 && gates == 4) {
        mcuq_dot4i2_s8(wx, wx + k * 4, x, k, gx, gx + 4);
        mcuq_dot4i2_s8(wh, wh + hid * 4, h, hid, gh, gh + 4);
    } else if (units == 2) {
        mcuq_dot3i2_s8(wx, wx + k * 3, x, k, gx, gx + 3);
        mcuq_dot3i2_s8(wh, wh + hid * 3, h, hid, gh, gh + 3);
    } else if (gates == 4) {
        mcuq_dot4i_s8(wx, x, k, gx);
        mcuq_dot4i_s8(wh, h, hid, gh);
    } else {
        mcuq_dot3i_s8(wx, x, k, gx);
        mcuq_dot3i_s8(wh, h, hid, gh);
    }
    for (int32_t u = 0; u < units; u++)
        for (int32_t q = 0; q < gates; q++) {
            const int32_t row = q * hid + j + u, i = u * gates + q;
            gx[i] = mcuq_requant(gx[i], g->mult_ih[row], g->shift_ih[row]);
            gh[i] = mcuq_requant(gh[i], g->mult_hh[row], g->shift_hh[row]);
        }
}

/* the same for fp16: gx[u * gates + q] = b_ih[q H + j + u] + W_ih x, each row summed in
 * k order (mcuq_fp16.h) */
static inline void mcuq_block_gates_f16(const mcuq_rnn_f16_t *p, int32_t gates, int32_t j,
                                        int32_t units, const _Float16 *x, const _Float16 *h,
                                        _Float16 *gx, _Float16 *gh)
{
    const int32_t k = p->in_features, hid = p->hidden;
    for (int32_t u = 0; u < units; u++)
        for (int32_t q = 0; q < gates; q++) {
            gx[u * gates + q] = p->b_ih[q * hid + j + u];
            gh[u * gates + q] = p->b_hh[q * hid + j + u];
        }
    const _Float16 *wx = p->w_ih + j * k * gates, *wh = p->w_hh + j * hid * gates;
    if (units == 2 && gates == 4) {
        mcuq_dot4i2_f16(wx, wx + k * 4, x, k, gx, gx + 4);
        mcuq_dot4i2_f16(wh, wh + hid * 4, h, hid, gh, gh + 4);
    } else if (units == 2) {
        mcuq_dot3i2_f16(wx, wx + k * 3, x, k, gx, gx + 3);
        mcuq_dot3i2_f16(wh, wh + hid * 3, h, hid, gh, gh + 3);
    } else if (gates == 4) {
        mcuq_dot4i_f16(wx, x, k, gx);
        mcuq_dot4i_f16(wh, h, hid, gh);
    } else {
        mcuq_dot3i_f16(wx, x, k, gx);
        mcuq_dot3i_f16(wh, h, hid, gh);
    }
}

/* gx + gh in Q12, saturated to int32 */
static inline int32_t mcuq_gate_sum(int32_t gx, int32_t gh)
{
    return mcuq_sat32((int64_t)gx + gh);
}

#endif

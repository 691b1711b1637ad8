/* Gate pre-activations shared by GRU and LSTM (NumPy twin: mcuq/ops/recurrent.py).
 *
 * float:  gx = W_ih x + b_ih,  gh = W_hh h + b_hh
 * int8:   gx = requant(W_ih_q xq + b_ih_q, M_ih),  gh = requant(W_hh_q hq + b_hh_q, M_hh)
 *         both in Q12 (int32); M ~ s_x s_w 2^12 and s_h s_w 2^12 per row.
 */
#ifndef MCUQ_GATES_H
#define MCUQ_GATES_H

#include "mcuq_fixedpoint.h"
#include "mcuq_kernels.h"

static inline void mcuq_gate_row(const mcuq_gates_s8_t *g, int32_t row, const int8_t *x,
                                 const int8_t *h, int32_t *gx, int32_t *gh)
{
    const int32_t k = g->in_features, hid = g->hidden;
    const int32_t ax = g->b_ih[row] + mcuq_dot_s8(g->w_ih + row * k, x, k);
    const int32_t ah = g->b_hh[row] + mcuq_dot_s8(g->w_hh + row * hid, h, hid);
    *gx = mcuq_requant(ax, g->mult_ih[row], g->shift_ih[row]);
    *gh = mcuq_requant(ah, g->mult_hh[row], g->shift_hh[row]);
}

/* gx + gh in Q12, saturated to int32 */
static inline int32_t mcuq_gate_sum(int32_t gx, int32_t gh)
{
    return mcuq_sat32((int64_t)gx + gh);
}

#endif

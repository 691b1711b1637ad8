/* Vanilla RNN layer, int8, one frame (NumPy twin: mcuq/ops/rnn.py, run_device).
 *
 * float:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
 * int8:   sx = W_ih_q x_q + b_ih_q,  sh = W_hh_q h_q + b_hh_q        (int32)
 *         g  = requant(sx, M_ih) + requant(sh, M_hh)    in Q12 (mcuq_gate_of, gates.h)
 *         n  = tanh_q15(g)                              Q15
 *         h' = clamp(requant(n, M_q2h), -128, 127)
 * The weights are grouped four units at a time as a Linear's, so one load of x[k] (or
 * h[k]) feeds four rows. Each core takes a share of the groups; all must have read the
 * old h before any core overwrites it, hence the barrier before each copies its units
 * into the state.
 */
#include <string.h>

#include "gates.h"
#include "mcuq_rnn.h"
#include "mcuq_runtime.h"

void mcuq_rnn_s8(const mcuq_rnn_s8_t *p, const int8_t *input, int8_t *h, int8_t *output)
{
    const mcuq_gates_s8_t *g = &p->gates;
    const int32_t k = g->in_features, hid = g->hidden;
    const int32_t rk = MCUQ_ROW_S8(k), rh = MCUQ_ROW_S8(hid);
    int32_t first, last;
    mcuq_split((hid + 3) / 4, &first, &last);
    for (int32_t group = first; group < last; group++) {
        const int32_t j0 = 4 * group, units = hid - j0 < 4 ? hid - j0 : 4;
        int32_t sx[4] = {0, 0, 0, 0}, sh[4] = {0, 0, 0, 0};
        mcuq_dot4i_s8(g->w_ih + j0 * rk, input, k, sx);
        mcuq_dot4i_s8(g->w_hh + j0 * rh, h, hid, sh);
        for (int32_t u = 0; u < units; u++) {
            const int32_t *row = mcuq_row_record(g, 1, 0, j0 + u);
            const int32_t n = mcuq_tanh_q15_of(mcuq_gate_of(row, sx[u] + row[MCUQ_ROW_B_IH],
                                                            sh[u] + row[MCUQ_ROW_B_HH]));
            output[j0 + u] = (int8_t)mcuq_clamp32(mcuq_requant(n, p->q2h_mult, p->q2h_shift),
                                                  -128, 127);
        }
    }
    mcuq_cluster_barrier(); /* every core has read the old h */
    const int32_t lo = 4 * first < hid ? 4 * first : hid, hi = 4 * last < hid ? 4 * last : hid;
    memcpy(h + lo, output + lo, (size_t)(hi - lo));
}

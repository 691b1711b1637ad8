/* LSTM layer, fp16, one frame (NumPy twin: mcuq/ops/lstm.py, run_fp16).
 *
 * float:  i = sigmoid(gx_i + gh_i), f = sigmoid(gx_f + gh_f),
 *         g = tanh(gx_g + gh_g),    o = sigmoid(gx_o + gh_o)
 *         c' = f c + i g,   h' = o tanh(c')
 * fp16:   gx[row] = b_ih[row] + sum_k W_ih[row][k] x[k], gh likewise, the four
 *         gate rows of a unit stored interleaved (mcuq_block_gates_f16,
 *         two units per pass);
 *         then the formula above, one rounding per operation.
 * Peepholes (optional): i and f add fp16(p c) of the old cell, o that of the new one.
 * Each core takes its share of the hidden units and their cells; the barrier keeps the
 * old h until every core has read it.
 */
#include <string.h>

#include "gates.h"
#include "mcuq_lstm.h"
#include "mcuq_runtime.h"

void mcuq_lstm_f16(const mcuq_lstm_f16_t *l, const _Float16 *input, _Float16 *h, _Float16 *c,
                   _Float16 *output)
{
    const mcuq_rnn_f16_t *p = &l->rnn;
    const _Float16 *const peep = l->peephole;
    const int32_t hid = p->hidden;
    int32_t first, last;
    mcuq_split(hid, &first, &last);
    for (int32_t block = first; block < last; block += 2) {
        const int32_t units = last - block < 2 ? 1 : 2;
        _Float16 gx[8], gh[8];
        mcuq_block_gates_f16(p, 4, block, units, input, h, gx, gh);
        for (int32_t u = 0; u < units; u++) {
            const int32_t j = block + u;
            _Float16 pre[4];
            for (int32_t gate = 0; gate < 4; gate++)
                pre[gate] = gx[4 * u + gate] + gh[4 * u + gate];
            if (peep) { /* p_i c and p_f c, from the old cell */
                const _Float16 ti = peep[j] * c[j];
                pre[0] = pre[0] + ti;
                const _Float16 tf = peep[hid + j] * c[j];
                pre[1] = pre[1] + tf;
            }
            const _Float16 i = mcuq_f16_sigmoid(pre[0]);
            const _Float16 f = mcuq_f16_sigmoid(pre[1]);
            const _Float16 g = mcuq_f16_tanh(pre[2]);
            const _Float16 keep = f * c[j];
            const _Float16 write = i * g;
            const _Float16 cell = keep + write;
            c[j] = mcuq_f16_canonical(cell);
            if (peep) { /* p_o c', from the new cell */
                const _Float16 to = peep[2 * hid + j] * c[j];
                pre[3] = pre[3] + to;
            }
            const _Float16 o = mcuq_f16_sigmoid(pre[3]);
            const _Float16 t = mcuq_f16_tanh(c[j]);
            const _Float16 h_new = o * t;
            output[j] = mcuq_f16_canonical(h_new);
        }
    }
    mcuq_cluster_barrier();
    memcpy(h + first, output + first, (size_t)(last - first) * sizeof(_Float16));
}

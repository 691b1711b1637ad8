/* Vanilla RNN layer, fp16, one frame (NumPy twin: mcuq/ops/rnn.py, run_device).
 *
 * float:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
 * fp16:   gx[j] = b_ih[j], then gx[j] = fp16(gx[j] + fp16(W_ih[j][k] x[k])) for k in order
 *         (gh likewise from h); h' = tanh(fp16(gx + gh)) through the shared Q15 table
 * Grouped four units at a time as a Linear's weights; each core takes a share of the
 * groups, and the barrier keeps the old h until every core has read it.
 */
#include <string.h>

#include "dot_f16.h"
#include "mcuq_fp16.h"
#include "mcuq_rnn.h"
#include "mcuq_runtime.h"

void mcuq_rnn_f16(const mcuq_rnn_f16_t *p, const _Float16 *input, _Float16 *h,
                  _Float16 *output)
{
    const int32_t k = p->in_features, hid = p->hidden;
    int32_t first, last;
    mcuq_split((hid + 3) / 4, &first, &last);
    for (int32_t group = first; group < last; group++) {
        const int32_t j0 = 4 * group, units = hid - j0 < 4 ? hid - j0 : 4;
        _Float16 gx[4] = {0, 0, 0, 0}, gh[4] = {0, 0, 0, 0};
        for (int32_t u = 0; u < units; u++) {
            gx[u] = p->b_ih[j0 + u];
            gh[u] = p->b_hh[j0 + u];
        }
        mcuq_dot4i_f16(p->w_ih + j0 * k, input, k, gx);
        mcuq_dot4i_f16(p->w_hh + j0 * hid, h, hid, gh);
        for (int32_t u = 0; u < units; u++) {
            const _Float16 pre = gx[u] + gh[u];
            output[j0 + u] = mcuq_f16_canonical(mcuq_f16_tanh(pre));
        }
    }
    mcuq_cluster_barrier(); /* every core has read the old h */
    const int32_t lo = 4 * first < hid ? 4 * first : hid, hi = 4 * last < hid ? 4 * last : hid;
    memcpy(h + lo, output + lo, (size_t)(hi - lo) * sizeof(_Float16));
}

/* GRU layer, fp16, one frame (NumPy twin: mcuq/ops/gru.py, run_fp16).
 *
 * float:  r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z)
 *         n = tanh(gx_n + r gh_n),   h' = n + z (h - n)
 * fp16:   gx[row] = b_ih[row] + sum_k W_ih[row][k] x[k], gh likewise, the three
 *         gate rows of a unit stored interleaved (mcuq_block_gates_f16,
 *         two units per pass);
 *         then the formula above, one rounding per operation, sigmoid and tanh through
 *         the shared Q15 tables (mcuq_fp16.h).
 * Reset-first form (linear_before_reset = 0): rh = r h, gh_n = b_hn + sum_k fp16(R_n[k] rh[k])
 * in k order, n = tanh(gx_n + gh_n); in two phases with the layer's scratch, as gru_s8.c.
 * Each core takes its share of the hidden units; the barrier keeps the old h until
 * every core has read it.
 */
#include <string.h>

#include "gates.h"
#include "mcuq_gru.h"
#include "mcuq_runtime.h"

/* h' = n + z (h - n), one rounding per operation */
static inline _Float16 gru_f16_update(_Float16 h, _Float16 z, _Float16 n)
{
    const _Float16 diff = h - n;
    const _Float16 step = z * diff;
    const _Float16 h_new = n + step;
    return mcuq_f16_canonical(h_new);
}

__attribute__((noinline)) static void gru_f16_reset_first(const mcuq_rnn_f16_t *p, const _Float16 *input, _Float16 *h,
                                _Float16 *output, _Float16 *work)
{
    const int32_t hid = p->hidden;
    _Float16 *rh = work, *zs = work + hid, *gxn = work + 2 * hid;
    int32_t first, last;
    mcuq_split(hid, &first, &last);
    for (int32_t block = first; block < last; block += 2) {
        const int32_t units = last - block < 2 ? 1 : 2;
        _Float16 gxs[6], ghs[6];
        mcuq_block_gates_f16(p, 3, block, units, input, h, gxs, ghs);
        for (int32_t u = 0; u < units; u++) {
            const int32_t j = block + u;
            const _Float16 *gx = gxs + 3 * u, *gh = ghs + 3 * u;
            const _Float16 r_pre = gx[0] + gh[0];
            const _Float16 r = mcuq_f16_sigmoid(r_pre);
            const _Float16 z_pre = gx[1] + gh[1];
            zs[j] = mcuq_f16_sigmoid(z_pre);
            gxn[j] = gx[2];
            const _Float16 rhj = r * h[j];
            rh[j] = rhj;
        }
    }
    mcuq_cluster_barrier(); /* every core's r h is written */
    for (int32_t j = first; j < last; j++) {
        const _Float16 *w = p->w_hh + j * hid * 3 + 2; /* unit j's n row, stride 3 */
        _Float16 acc = p->b_hh[2 * hid + j];
        for (int32_t k = 0; k < hid; k++) {
            const _Float16 product = w[3 * k] * rh[k];
            acc = acc + product;
        }
        const _Float16 n_pre = gxn[j] + acc;
        output[j] = gru_f16_update(h[j], zs[j], mcuq_f16_tanh(n_pre));
    }
    memcpy(h + first, output + first, (size_t)(last - first) * sizeof(_Float16));
}

void mcuq_gru_f16(const mcuq_gru_f16_t *g, const _Float16 *input, _Float16 *h,
                  _Float16 *output, _Float16 *work)
{
    const mcuq_rnn_f16_t *p = &g->rnn;
    if (!g->linear_before_reset) {
        gru_f16_reset_first(p, input, h, output, work);
        return;
    }
    int32_t first, last;
    mcuq_split(p->hidden, &first, &last);
    for (int32_t block = first; block < last; block += 2) {
        const int32_t units = last - block < 2 ? 1 : 2;
        _Float16 gxs[6], ghs[6];
        mcuq_block_gates_f16(p, 3, block, units, input, h, gxs, ghs);
        for (int32_t u = 0; u < units; u++) {
            const int32_t j = block + u;
            const _Float16 *gx = gxs + 3 * u, *gh = ghs + 3 * u;
            const _Float16 r_pre = gx[0] + gh[0];
            const _Float16 r = mcuq_f16_sigmoid(r_pre);
            const _Float16 z_pre = gx[1] + gh[1];
            const _Float16 z = mcuq_f16_sigmoid(z_pre);
            const _Float16 rh = r * gh[2];
            const _Float16 n_pre = gx[2] + rh;
            output[j] = gru_f16_update(h[j], z, mcuq_f16_tanh(n_pre));
        }
    }
    mcuq_cluster_barrier();
    memcpy(h + first, output + first, (size_t)(last - first) * sizeof(_Float16));
}

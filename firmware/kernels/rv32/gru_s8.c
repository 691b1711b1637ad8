/* GRU layer, int8, one frame (NumPy twin: mcuq/ops/gru.py, run_device).
 *
 * float:  r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z)
 *         n = tanh(gx_n + r * gh_n)
 *         h' = (1 - z) n + z h = n + z (h - n)
 * int8:   gx, gh in Q12 (gates.h); r, z, n in Q15
 *         r  = sigmoid_q15(gx_r + gh_r)
 *         z  = sigmoid_q15(gx_z + gh_z)
 *         n  = tanh_q15(gx_n + rshift_round(r * gh_n, 15))        (product in int64)
 *         hq = clamp(requant(h, M_h2q), -32768, 32767)              (h in Q15)
 *         h' = n + rshift_round(z * (hq - n), 15)      (|z (hq - n)| < 2^31: int32)
 *         out = clamp(requant(h', M_q2h), -128, 127)
 * Each hidden unit needs only its own three gate rows, so no scratch memory;
 * two units run in one pass (mcuq_block_gates).
 * Each core takes its share of the hidden units (GreenWaves split LSTM neurons the
 * same way); all must have read the old h before any core overwrites it, hence
 * the barrier before each core copies its own units into the state.
 */
#include <string.h>

#include "gates.h"
#include "mcuq_gru.h"
#include "mcuq_runtime.h"

void mcuq_gru_s8(const mcuq_gru_s8_t *p, const int8_t *input, int8_t *h, int8_t *output)
{
    const mcuq_gates_s8_t *g = &p->gates;
    const int32_t hid = g->hidden;
    int32_t first, last;
    mcuq_split(hid, &first, &last);
    for (int32_t block = first; block < last; block += 2) {
        const int32_t units = last - block < 2 ? 1 : 2;
        int32_t gxs[6], ghs[6];
        mcuq_block_gates(g, 3, block, units, input, h, gxs, ghs);
        for (int32_t u = 0; u < units; u++) {
            const int32_t j = block + u, *gx = gxs + 3 * u, *gh = ghs + 3 * u;
            const int32_t r = mcuq_sigmoid_q15_of(mcuq_gate_sum(gx[0], gh[0]));
            const int32_t z = mcuq_sigmoid_q15_of(mcuq_gate_sum(gx[1], gh[1]));
            const int32_t rh = (int32_t)mcuq_rshift_round64((int64_t)r * gh[2], 15);
            const int32_t n = mcuq_tanh_q15_of(mcuq_gate_sum(gx[2], rh));
            const int32_t hq = mcuq_clamp32(mcuq_requant(h[j], p->h2q_mult, p->h2q_shift),
                                            -32768, 32767);
            const int32_t h_new = n + mcuq_rshift_round(z * (hq - n), 15);
            output[j] = (int8_t)mcuq_clamp32(mcuq_requant(h_new, p->q2h_mult, p->q2h_shift),
                                             -128, 127);
        }
    }
    mcuq_cluster_barrier();
    memcpy(h + first, output + first, (size_t)(last - first));
}

/* Linear layer, int8 (NumPy twin: mcuq/ops/linear.py).
 *
 * float:  y = W x + b            (max(y, 0) with a fused ReLU)
 * int8:   acc[n] = sum_k Wq[n][k] xq[k] + bq[n]       (int32; zp_x folded into bq)
 *         y[n]   = clamp(zp_y + requant(acc[n], M[n]), act_min, 127)
 * Channels come in groups of four, stored interleaved, and two groups run in one pass
 * (one input load feeds eight MACs); each core computes its share of the groups.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_isa.h"
#include "mcuq_linear.h"
#include "mcuq_runtime.h"

void mcuq_linear_s8(const mcuq_linear_s8_t *p, const int8_t *input, int8_t *output)
{
    const int32_t k = p->in_features;
    const int32_t zp = p->out_zero_point;
    int32_t first, last;
    mcuq_split((p->out_features + 3) / 4, &first, &last);
    for (int32_t group = first; group < last; group += 2) {
        /* two groups (8 channels) per pass when this core has two left */
        const int32_t n = 4 * group;
        const int32_t channels = last - group < 2 ? 4 : 8;
        const int32_t rows = p->out_features - n < channels ? p->out_features - n : channels;
        int32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (channels == 8)
            mcuq_dot4i2_s8(p->weight + n * k, p->weight + (n + 4) * k, input, k, acc, acc + 4);
        else
            mcuq_dot4i_s8(p->weight + n * k, input, k, acc);
        for (int32_t r = 0; r < rows; r++) {
            const int32_t y = mcuq_requant(p->bias[n + r] + acc[r], p->mult[n + r],
                                           p->shift[n + r]);
            /* clamp before adding zp so the sum cannot overflow */
            output[n + r] = (int8_t)(mcuq_clamp32(y, p->act_min - zp, 127 - zp) + zp);
        }
    }
}

/* Linear layer, int8 (NumPy twin: mcuq/ops/linear.py).
 *
 * float:  y = W x + b            (max(y, 0) with a fused ReLU)
 * int8:   acc[n] = sum_k Wq[n][k] xq[k] + bq[n]       (int32; zp_x folded into bq)
 *         y[n]   = clamp(zp_y + requant(acc[n], M[n]), act_min, 127)
 * Each core computes its share of the output channels.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_kernels.h"
#include "mcuq_runtime.h"

void mcuq_linear_s8(const mcuq_linear_s8_t *p, const int8_t *input, int8_t *output)
{
    const int32_t k = p->in_features;
    const int32_t zp = p->out_zero_point;
    int32_t first, last;
    mcuq_split(p->out_features, &first, &last);
    for (int32_t n = first; n < last; n++) {
        const int32_t acc = p->bias[n] + mcuq_dot_s8(p->weight + n * k, input, k);
        const int32_t r = mcuq_requant(acc, p->mult[n], p->shift[n]);
        /* clamp before adding zp so the sum cannot overflow */
        output[n] = (int8_t)(mcuq_clamp32(r, p->act_min - zp, 127 - zp) + zp);
    }
}

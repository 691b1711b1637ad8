/* PReLU, int8 (NumPy twin: mcuq/ops/prelu.py).
 *
 * float:  y = x < 0 ? a[c] x : x
 * int8:   a[c] ~ s_a aq[c] (int8 codes, one scale);  v = xq - zp_x
 *         y = clamp(zp_y + (v >= 0 ? requant(v, M_pos) : requant(v aq[c], M_neg)), -128, 127)
 *         M_pos ~ s_x / s_y,  M_neg ~ s_x s_a / s_y
 * Each core takes a share of the elements.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_prelu.h"
#include "mcuq_runtime.h"

void mcuq_prelu_s8(const mcuq_prelu_s8_t *p, const int8_t *slope, const int8_t *input,
                   int8_t *output)
{
    const int32_t channels = p->channels, zp = p->out_zero_point;
    int32_t first, last;
    mcuq_split(channels * p->pixels, &first, &last);
    for (int32_t i = first; i < last; i++) {
        const int32_t v = (int32_t)input[i] - p->in_zero_point;
        const int32_t y = v >= 0 ? mcuq_requant(v, p->pos_mult, p->pos_shift)
                                 : mcuq_requant(v * slope[i % channels], p->neg_mult, p->neg_shift);
        output[i] = (int8_t)(mcuq_clamp32(y, -128 - zp, 127 - zp) + zp);
    }
}

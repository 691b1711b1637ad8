/* Add, int8 (NumPy twin: mcuq/ops/add.py).
 *
 * float:  y = a + b
 * int8:   ta = requant(qa - zp_a, M_a)      M_a ~ s_a / s_y 2^16   (int32, saturated)
 *         tb = requant(qb - zp_b, M_b)      M_b ~ s_b / s_y 2^16
 *         y  = clamp(zp_y + rshift_round(ta + tb, 16), -128, 127)   (ta + tb in int64)
 * Both inputs are rescaled to the output scale with 16 fraction bits to spare, so the
 * sum is rounded once. Each core takes its share of the elements.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_add.h"
#include "mcuq_runtime.h"

void mcuq_add_s8(const mcuq_add_s8_t *p, const int8_t *a, const int8_t *b, int8_t *output)
{
    int32_t first, last;
    mcuq_split(p->size, &first, &last);
    for (int32_t i = first; i < last; i++) {
        const int32_t ta = mcuq_requant((int32_t)a[i] - p->a_zero_point, p->a_mult, p->a_shift);
        const int32_t tb = mcuq_requant((int32_t)b[i] - p->b_zero_point, p->b_mult, p->b_shift);
        const int32_t sum = (int32_t)mcuq_rshift_round64((int64_t)ta + tb, MCUQ_ADD_SHIFT);
        output[i] = (int8_t)mcuq_clamp32(sum + p->out_zero_point, -128, 127);
    }
}

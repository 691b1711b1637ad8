/* Mul, int8 (NumPy twin: mcuq/ops/mul.py).
 *
 * float:  y = a b
 * int8:   y = clamp(zp_y + requant((qa - zp_a)(qb - zp_b), M), -128, 127)   M ~ s_a s_b / s_y
 *         (|product| <= 255 * 255: int32)
 * b is read at i mod b_period (one value per channel, or the same shape). Each core
 * takes its share of the elements.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_mul.h"
#include "mcuq_runtime.h"

void mcuq_mul_s8(const mcuq_mul_s8_t *p, const int8_t *a, const int8_t *b, int8_t *output)
{
    const int32_t zp = p->out_zero_point;
    int32_t first, last;
    mcuq_split(p->size, &first, &last);
    for (int32_t i = first, j = first % p->b_period; i < last; i++) {
        const int32_t product = ((int32_t)a[i] - p->a_zero_point) * ((int32_t)b[j] - p->b_zero_point);
        const int32_t y = mcuq_requant(product, p->mult, p->shift);
        output[i] = (int8_t)(mcuq_clamp32(y, -128 - zp, 127 - zp) + zp);
        if (++j == p->b_period)
            j = 0;
    }
}

/* Mul, fp16 (NumPy twin: mcuq/ops/mul.py).
 *
 * float:  y = a b
 * fp16:   y = fp16(a b), stored through mcuq_f16_canonical (one NaN)
 * b is read at i mod b_period (one value per channel, or the same shape). Each core
 * takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_mul.h"
#include "mcuq_runtime.h"

void mcuq_mul_f16(int32_t size, int32_t b_period, const _Float16 *a, const _Float16 *b,
                  _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first, j = first % b_period; i < last; i++) {
        const _Float16 y = a[i] * b[j];
        output[i] = mcuq_f16_canonical(y);
        if (++j == b_period)
            j = 0;
    }
}

/* Add, fp16 (NumPy twin: mcuq/ops/add.py).
 *
 * float:  y = a + b
 * fp16:   y = fp16(a + b), one rounding
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_add.h"
#include "mcuq_runtime.h"

void mcuq_add_f16(int32_t size, const _Float16 *a, const _Float16 *b, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++) {
        const _Float16 sum = a[i] + b[i];
        output[i] = mcuq_f16_canonical(sum);
    }
}

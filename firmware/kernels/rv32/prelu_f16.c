/* PReLU, fp16 (NumPy twin: mcuq/ops/prelu.py).
 *
 * float:  y = x < 0 ? a[c] x : x
 * fp16:   y = x < 0 ? fp16(x a[c]) : x, every stored value through mcuq_f16_canonical
 * Each core takes a share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_prelu.h"
#include "mcuq_runtime.h"

void mcuq_prelu_f16(int32_t channels, int32_t pixels, const _Float16 *slope,
                    const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(channels * pixels, &first, &last);
    for (int32_t i = first; i < last; i++) {
        const _Float16 x = input[i];
        const _Float16 t = x * slope[i % channels];
        output[i] = mcuq_f16_canonical(x < (_Float16)0 ? t : x);
    }
}

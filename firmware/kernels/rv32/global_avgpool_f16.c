/* Global average pooling, fp16 (NumPy twin: mcuq/ops/global_avgpool.py).
 *
 * float:  y[c] = (1 / HW) sum over the image of x[c]
 * fp16:   acc = 0.0f; for pixels in order: acc = acc + (float)x; y = (_Float16)(acc / HW)
 *         (float32 accumulation and division, each rounded once; cannot overflow)
 * Each core takes a share of the channels.
 */
#include "mcuq_fp16.h"
#include "mcuq_pool.h"
#include "mcuq_runtime.h"

void mcuq_global_avgpool_f16(int32_t channels, int32_t pixels, const _Float16 *input,
                             _Float16 *output)
{
    int32_t first, last;
    mcuq_split(channels, &first, &last);
    for (int32_t c = first; c < last; c++) {
        float acc = 0.0f;
        const _Float16 *x = input + c;
        for (int32_t i = 0; i < pixels; i++, x += channels)
            acc = acc + (float)*x;
        output[c] = mcuq_f16_canonical((_Float16)(acc / (float)pixels));
    }
}

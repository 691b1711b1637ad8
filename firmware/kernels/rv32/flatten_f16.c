/* Flatten, fp16 (NumPy twin: mcuq/ops/flatten.py).
 *
 * y[c * pixels + i] = x[i * channels + c]: HWC to channel-major (a copy of the values,
 * whose format does not change). Each core takes a share of the channels.
 */
#include "mcuq_flatten.h"
#include "mcuq_runtime.h"

void mcuq_flatten_f16(int32_t channels, int32_t pixels, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(channels, &first, &last);
    for (int32_t c = first; c < last; c++) {
        const _Float16 *x = input + c;
        _Float16 *y = output + c * pixels;
        for (int32_t i = 0; i < pixels; i++, x += channels)
            y[i] = *x;
    }
}

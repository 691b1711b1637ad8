/* Flatten, int8 (NumPy twin: mcuq/ops/flatten.py).
 *
 * y[c * pixels + i] = x[i * channels + c]: HWC to channel-major (a copy of the values,
 * whose format does not change). Each core takes a share of the channels; a 1x1 map is
 * a plain copy (in whole words where the share allows).
 */
#include "mcuq_flatten.h"
#include "mcuq_runtime.h"
#include "mcuq_window.h"

void mcuq_flatten_s8(int32_t channels, int32_t pixels, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    if (pixels == 1) {  /* a 1x1 map (after global pooling): the same bytes, copied */
        mcuq_split(channels, &first, &last);
        mcuq_copy_bytes((uint8_t *)output + first, (const uint8_t *)input + first, last - first);
        return;
    }
    mcuq_split(channels, &first, &last);
    for (int32_t c = first; c < last; c++) {
        const int8_t *x = input + c;
        int8_t *y = output + c * pixels;
        for (int32_t i = 0; i < pixels; i++, x += channels)
            y[i] = *x;
    }
}

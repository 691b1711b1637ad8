/* Conversion fp16 -> int8 at a precision boundary (NumPy twin: mcuq/ops/convert.py).
 *
 * q = clamp(floor(f32(x) * inv_scale + 0.5) + zp, -128, 127)
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_convert.h"
#include "mcuq_runtime.h"

void mcuq_convert_s8(int32_t size, int32_t zero_point, float inv_scale, const _Float16 *input,
                     int8_t *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = mcuq_s8_from_f16(input[i], zero_point, inv_scale);
}

/* Conversion int8 -> fp16 at a precision boundary (NumPy twin: mcuq/ops/convert.py).
 *
 * y = fp16(f32(q - zp) * scale)
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_convert.h"
#include "mcuq_runtime.h"

void mcuq_convert_f16(int32_t size, int32_t zero_point, float scale, const int8_t *input,
                      _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = mcuq_f16_from_s8(input[i], zero_point, scale);
}

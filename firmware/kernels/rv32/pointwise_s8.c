/* Pointwise functions, int8 (NumPy twin: mcuq/ops/pointwise.py and mcuq/ops/_lookup.py).
 *
 * float:  y = f(x): clip, leaky_relu, hard_sigmoid, hard_swish, mul/div/add/sub_from a scalar
 * int8:   y = table[xq + 128]; the 256-entry table is computed offline from the input's
 *         quantization and the output's calibrated one:
 *         table[q + 128] = clamp(round(f(s_x (q - zp_x)) / s_y) + zp_y, -128, 127)
 * Each core takes its share of the elements.
 */
#include "mcuq_pointwise.h"
#include "mcuq_runtime.h"

void mcuq_pointwise_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = table[(int32_t)input[i] + 128];
}

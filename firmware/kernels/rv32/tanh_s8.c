/* Tanh, int8 (NumPy twin: mcuq/ops/tanh.py and mcuq/ops/_lookup.py).
 *
 * float:  y = tanh(x)
 * int8:   y = table[xq + 128]; the 256-entry table is computed offline from the layer's
 *         input quantization (output scale 1/128, zero point 0)
 * Each core takes its share of the elements.
 */
#include "mcuq_tanh.h"
#include "mcuq_runtime.h"

void mcuq_tanh_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = table[(int32_t)input[i] + 128];
}

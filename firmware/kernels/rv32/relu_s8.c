/* ReLU, int8 (NumPy twin: mcuq/ops/relu.py).
 *
 * float:  y = max(x, 0)
 * int8:   y = max(xq, zp), the input's scale and zero point
 * Each core takes its share of the elements.
 */
#include "mcuq_relu.h"
#include "mcuq_runtime.h"

void mcuq_relu_s8(int32_t size, int32_t zero_point, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = input[i] < zero_point ? (int8_t)zero_point : input[i];
}

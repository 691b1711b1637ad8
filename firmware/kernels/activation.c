/* Element-wise int8 activations (NumPy twin: mcuq/ops/activation.py).
 *
 * ReLU:   float y = max(x, 0);  int8 y = max(xq, zp), same scale and zero point.
 * Table:  float y = f(x);       int8 y = table[xq + 128], the table computed offline
 *         from the layer's input and output quantization (sigmoid, tanh).
 * Each core takes its share of the elements.
 */
#include "mcuq_kernels.h"
#include "mcuq_runtime.h"

void mcuq_relu_s8(int32_t size, int32_t zero_point, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = input[i] < zero_point ? (int8_t)zero_point : input[i];
}

void mcuq_table_s8(int32_t size, const int8_t *table, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = table[(int32_t)input[i] + 128];
}

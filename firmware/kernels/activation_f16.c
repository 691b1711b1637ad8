/* Element-wise fp16 activations (NumPy twin: mcuq/ops/activation.py, mcuq.fp16).
 *
 * ReLU:    y = x < 0 ? 0 : x
 * Sigmoid: y = fp16(sigmoid_q15(Q12 of x) / 32768), through the shared Q15 table
 * Tanh:    y = fp16(tanh_q15(Q12 of x) / 32768)
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_kernels.h"
#include "mcuq_runtime.h"

void mcuq_relu_f16(int32_t size, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = input[i] < (_Float16)0 ? (_Float16)0 : input[i];
}

void mcuq_sigmoid_f16_layer(int32_t size, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = mcuq_sigmoid_f16(input[i]);
}

void mcuq_tanh_f16_layer(int32_t size, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = mcuq_tanh_f16(input[i]);
}

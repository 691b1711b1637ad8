/* ReLU, fp16 (NumPy twin: mcuq/ops/relu.py, mcuq.fp16.relu).
 *
 * float:  y = max(x, 0)
 * fp16:   y = x < 0 ? 0 : x
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_relu.h"
#include "mcuq_runtime.h"

void mcuq_relu_f16(int32_t size, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = input[i] < (_Float16)0 ? (_Float16)0 : input[i];
}

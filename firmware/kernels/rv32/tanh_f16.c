/* Tanh, fp16 (NumPy twin: mcuq/ops/tanh.py, mcuq.fp16.tanh).
 *
 * float:  y = tanh(x)
 * fp16:   y = fp16(tanh_q15(Q12 of x) / 32768), through the shared Q15 table (mcuq_fp16.h)
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_tanh.h"
#include "mcuq_runtime.h"

void mcuq_tanh_f16(int32_t size, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++)
        output[i] = mcuq_f16_tanh(input[i]);
}

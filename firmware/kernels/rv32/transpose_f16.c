/* Transpose, fp16 (NumPy twin: mcuq/ops/transpose.py).
 *
 * y = reshape(transpose(x, perm), shape): a copy of the values in another order, each
 * output element from the input element of the strided walk (extent, stride)
 * (mcuq_transpose.h). Each core takes a share of the output elements.
 */
#include "mcuq_runtime.h"
#include "mcuq_transpose.h"

void mcuq_transpose_f16(int32_t size, const int32_t *extent, const int32_t *stride,
                        const _Float16 *input, _Float16 *output)
{
    int32_t first, last, digit[MCUQ_TRANSPOSE_DIMS];
    mcuq_split(size, &first, &last);
    if (first >= last)
        return;
    int32_t offset = mcuq_transpose_start(extent, stride, first, digit);
    for (int32_t j = first; j < last; j++) {
        output[j] = input[offset];
        offset = mcuq_transpose_next(extent, stride, digit, offset);
    }
}

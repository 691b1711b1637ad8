/* Linear layer, fp16 (NumPy twin: mcuq/ops/linear.py, mcuq/ops/_matvec.py).
 *
 * float:  y = W x + b              (max(y, 0) with a fused ReLU)
 * fp16:   the matvec core of matvec.h (every product and sum rounds on its own, k in
 *         order); each core computes its share of the groups of four output channels.
 */
#include "matvec.h"
#include "mcuq_runtime.h"

void mcuq_linear_f16(const mcuq_linear_f16_t *p, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split((p->out_features + 3) / 4, &first, &last);
    mcuq_matvec_f16(p, first, last, input, output);
}

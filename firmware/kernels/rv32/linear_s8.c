/* Linear layer, int8 (NumPy twin: mcuq/ops/linear.py, mcuq/ops/_matvec.py).
 *
 * float:  y = W x + b            (max(y, 0) with a fused ReLU)
 * int8:   the matvec core of matvec.h; each core computes its share of the groups of
 *         four output channels.
 */
#include "matvec.h"
#include "mcuq_runtime.h"

void mcuq_linear_s8(const mcuq_linear_s8_t *p, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split((p->out_features + 3) / 4, &first, &last);
    mcuq_matvec_s8(p, first, last, input, output);
}

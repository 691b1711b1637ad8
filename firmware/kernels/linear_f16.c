/* Linear layer, fp16 (NumPy twin: mcuq/ops/linear.py, mcuq.fp16.matvec).
 *
 * float:  y = W x + b              (max(y, 0) with a fused ReLU)
 * fp16:   acc = b[n]; for k = 0 .. K-1: p = fp16(W[n][k] x[k]); acc = fp16(acc + p)
 *         y[n] = acc (or acc < 0 ? 0 : acc)
 * Every product and sum rounds on its own (see mcuq_fp16.h); k runs in order.
 * Each core computes its share of the output channels.
 */
#include "mcuq_fp16.h"
#include "mcuq_kernels.h"
#include "mcuq_runtime.h"

void mcuq_linear_f16(const mcuq_linear_f16_t *p, const _Float16 *input, _Float16 *output)
{
    const int32_t k = p->in_features;
    int32_t first, last;
    mcuq_split(p->out_features, &first, &last);
    for (int32_t n = first; n < last; n++) {
        const _Float16 acc = mcuq_dot_f16(p->bias[n], p->weight + n * k, input, k);
        output[n] = p->relu && acc < (_Float16)0 ? (_Float16)0 : acc;
    }
}

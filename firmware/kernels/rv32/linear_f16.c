/* Linear layer, fp16 (NumPy twin: mcuq/ops/linear.py, mcuq.fp16.matvec).
 *
 * float:  y = W x + b              (max(y, 0) with a fused ReLU)
 * fp16:   acc = b[n]; for k = 0 .. K-1: p = fp16(W[n][k] x[k]); acc = fp16(acc + p)
 *         y[n] = acc (or acc < 0 ? 0 : acc)
 * Every product and sum rounds on its own (see mcuq_fp16.h); k runs in order.
 * Channels come in groups of four, stored interleaved (the last group padded with zero
 * rows), as in the int8 kernel, two groups per pass; each core computes its share of
 * the groups.
 */
#include "mcuq_fp16.h"
#include "mcuq_isa.h"
#include "mcuq_linear.h"
#include "mcuq_runtime.h"

void mcuq_linear_f16(const mcuq_linear_f16_t *p, const _Float16 *input, _Float16 *output)
{
    const int32_t k = p->in_features;
    int32_t first, last;
    mcuq_split((p->out_features + 3) / 4, &first, &last);
    for (int32_t group = first; group < last; group += 2) {
        /* two groups (8 channels) per pass when this core has two left */
        const int32_t n = 4 * group;
        const int32_t channels = last - group < 2 ? 4 : 8;
        const int32_t rows = p->out_features - n < channels ? p->out_features - n : channels;
        _Float16 acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int32_t r = 0; r < rows; r++)
            acc[r] = p->bias[n + r];
        if (channels == 8)
            mcuq_dot4i2_f16(p->weight + n * k, p->weight + (n + 4) * k, input, k, acc, acc + 4);
        else
            mcuq_dot4i_f16(p->weight + n * k, input, k, acc);
        for (int32_t r = 0; r < rows; r++)
            output[n + r] = mcuq_f16_canonical(p->relu && acc[r] < (_Float16)0 ? (_Float16)0
                                                                              : acc[r]);
    }
}

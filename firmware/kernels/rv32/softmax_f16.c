/* Softmax, fp16 (NumPy twin: mcuq/ops/softmax.py, fp16_softmax).
 *
 * float:  y[i] = e^(x[i] - m) / sum_j e^(x[j] - m),   m = max_j x[j]
 * fp16:   m = the row's largest value (the first, then each larger one); in f32:
 *         t[i] = f32(f32(x[i] - m) * log2 e),  e[i] = 2^t[i]  (mcuq_f32_exp2_nonpositive)
 *         S = e[0] + e[1] + ... in order, one rounding per sum;  y[i] = fp16(e[i] / S)
 *         (e[i] is computed again for the division: the same value, no buffer)
 *         a NaN in the row makes every output NaN, stored as the canonical NaN
 * Each core takes a share of the rows.
 */
#include "mcuq_fp16.h"
#include "mcuq_runtime.h"
#include "mcuq_softmax.h"

static inline float exponential(_Float16 x, float m)
{
    const float d = (float)x - m;
    const float t = d * 1.44269504088896340736f;
    return mcuq_f32_exp2_nonpositive(t);
}

void mcuq_softmax_f16(int32_t rows, int32_t length, const _Float16 *input, _Float16 *output)
{
    int32_t first, last;
    mcuq_split(rows, &first, &last);
    for (int32_t r = first; r < last; r++) {
        const _Float16 *x = input + r * length;
        _Float16 *y = output + r * length;
        _Float16 top = x[0];
        for (int32_t i = 1; i < length; i++)
            top = x[i] > top ? x[i] : top;
        const float m = (float)top;
        float sum = 0.0f;
        for (int32_t i = 0; i < length; i++)
            sum = sum + exponential(x[i], m);
        for (int32_t i = 0; i < length; i++) {
            const float v = exponential(x[i], m) / sum;
            y[i] = mcuq_f16_canonical((_Float16)v);
        }
    }
}

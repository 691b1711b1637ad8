/* Concat along one per-frame axis, int8 (NumPy twin: mcuq/ops/concat.py).
 *
 * float:  y = [x_0, x_1, ...] along the axis
 * int8:   y = clamp(zp_y + requant(q_i - zp_i, M_i), -128, 127)     M_i ~ s_i / s_y
 *         (an input with the output's scale has M = 2^30 2^-30: an exact copy)
 * Memory: the output is `outer` blocks (mcuq_concat.h), input i filling values
 * [off_i, off_i + runs[i]) of each block (a constant input is an array of the layer).
 * Each core takes its share of every input's values; one division per input finds
 * where that share starts.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_concat.h"
#include "mcuq_runtime.h"

void mcuq_concat_s8(const mcuq_concat_s8_t *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t total = 0;
    for (int32_t i = 0; i < p->inputs; i++)
        total += p->runs[i];
    for (int32_t i = 0, offset = 0; i < p->inputs; offset += p->runs[i], i++) {
        const int32_t run = p->runs[i], zp = p->zero_point[i];
        const int32_t mult = p->mult[i], shift = p->shift[i];
        const int8_t *x = inputs[i];
        int32_t first, last;
        mcuq_split(p->outer * run, &first, &last);
        int32_t block = first / run, c = first - block * run;
        int8_t *y = output + block * total + offset;
        for (int32_t e = first; e < last; e++) {
            const int32_t v = mcuq_requant((int32_t)x[e] - zp, mult, shift);
            y[c] = (int8_t)mcuq_clamp32(v + p->out_zero_point, -128, 127);
            if (++c == run) {
                c = 0;
                y += total;
            }
        }
    }
}

/* Concat along one per-frame axis, fp16 (NumPy twin: mcuq/ops/concat.py): a copy.
 *
 * Memory: the output is `outer` blocks (mcuq_concat.h), input i filling values
 * [off_i, off_i + runs[i]) of each block (a constant input is an array of the layer).
 * Each core takes its share of every input's values.
 */
#include "mcuq_fp16.h"
#include "mcuq_concat.h"
#include "mcuq_runtime.h"

void mcuq_concat_f16(const mcuq_concat_f16_t *p, const _Float16 *const *inputs,
                     _Float16 *output)
{
    int32_t total = 0;
    for (int32_t i = 0; i < p->inputs; i++)
        total += p->runs[i];
    for (int32_t i = 0, offset = 0; i < p->inputs; offset += p->runs[i], i++) {
        const int32_t run = p->runs[i];
        const _Float16 *x = inputs[i];
        int32_t first, last;
        mcuq_split(p->outer * run, &first, &last);
        int32_t block = first / run, c = first - block * run;
        _Float16 *y = output + block * total + offset;
        for (int32_t e = first; e < last; e++) {
            y[c] = x[e];
            if (++c == run) {
                c = 0;
                y += total;
            }
        }
    }
}

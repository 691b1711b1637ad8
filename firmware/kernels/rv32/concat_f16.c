/* Concat on the feature (channel) axis, fp16 (NumPy twin: mcuq/ops/concat.py): a copy.
 *
 * Memory: channels last (HWC; a vector is one pixel), so input i fills channels
 * [off_i, off_i + channels[i]) of each of the `outer` pixels. Each core takes its share
 * of every input's values.
 */
#include "mcuq_fp16.h"
#include "mcuq_concat.h"
#include "mcuq_runtime.h"

void mcuq_concat_f16(const mcuq_concat_f16_t *p, const _Float16 *const *inputs,
                     _Float16 *output)
{
    int32_t total = 0;
    for (int32_t i = 0; i < p->inputs; i++)
        total += p->channels[i];
    for (int32_t i = 0, offset = 0; i < p->inputs; offset += p->channels[i], i++) {
        const int32_t channels = p->channels[i];
        const _Float16 *x = inputs[i];
        int32_t first, last;
        mcuq_split(p->outer * channels, &first, &last);
        int32_t pixel = first / channels, c = first - pixel * channels;
        _Float16 *y = output + pixel * total + offset;
        for (int32_t e = first; e < last; e++) {
            y[c] = x[e];
            if (++c == channels) {
                c = 0;
                y += total;
            }
        }
    }
}

/* Concat on the feature (channel) axis, int8 (NumPy twin: mcuq/ops/concat.py).
 *
 * float:  y = [x_0, x_1, ...] along the channels
 * int8:   y = clamp(zp_y + requant(q_i - zp_i, M_i), -128, 127)     M_i ~ s_i / s_y
 *         (an input with the output's scale has M = 2^30 2^-30: an exact copy)
 * Memory: channels last (HWC; a vector is one pixel), so input i fills channels
 * [off_i, off_i + channels[i]) of each of the `outer` pixels. Each core takes its share
 * of every input's values; one division per input finds where that share starts.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_concat.h"
#include "mcuq_runtime.h"

void mcuq_concat_s8(const mcuq_concat_s8_t *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t total = 0;
    for (int32_t i = 0; i < p->inputs; i++)
        total += p->channels[i];
    for (int32_t i = 0, offset = 0; i < p->inputs; offset += p->channels[i], i++) {
        const int32_t channels = p->channels[i], zp = p->zero_point[i];
        const int32_t mult = p->mult[i], shift = p->shift[i];
        const int8_t *x = inputs[i];
        int32_t first, last;
        mcuq_split(p->outer * channels, &first, &last);
        int32_t pixel = first / channels, c = first - pixel * channels;
        int8_t *y = output + pixel * total + offset;
        for (int32_t e = first; e < last; e++) {
            const int32_t v = mcuq_requant((int32_t)x[e] - zp, mult, shift);
            y[c] = (int8_t)mcuq_clamp32(v + p->out_zero_point, -128, 127);
            if (++c == channels) {
                c = 0;
                y += total;
            }
        }
    }
}

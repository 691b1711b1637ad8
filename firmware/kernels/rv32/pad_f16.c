/* Pad, fp16 (NumPy twin: mcuq/ops/pad.py).
 *
 * float:  y[top + iy sy][left + ix sx] = x[iy][ix]; every other output pixel is v
 * fp16:   the values are copied; the border is fp16(v) (given as bits)
 * Each core takes a share of the output pixels (C contiguous values each, HWC).
 */
#include "mcuq_fp16.h"
#include "mcuq_pad.h"
#include "mcuq_runtime.h"

void mcuq_pad_f16(const mcuq_pad_t *p, uint16_t value_bits, const _Float16 *input,
                  _Float16 *output)
{
    const _Float16 value = mcuq_f16_canonical(mcuq_f16_of_bits(value_bits));
    const int32_t c = p->channels;
    const int32_t out_h = (p->in_h - 1) * p->stride_h + 1 + p->pad_top + p->pad_bottom;
    const int32_t out_w = (p->in_w - 1) * p->stride_w + 1 + p->pad_left + p->pad_right;
    int32_t first, last;
    mcuq_split(out_h * out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t source = mcuq_pad_source(p, pixel);
        _Float16 *y = output + pixel * c;
        if (source < 0) {
            for (int32_t k = 0; k < c; k++)
                y[k] = value;
        } else {
            const _Float16 *x = input + source * c;
            for (int32_t k = 0; k < c; k++)
                y[k] = mcuq_f16_canonical(x[k]);
        }
    }
}

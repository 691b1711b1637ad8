/* Pad, fp16 (NumPy twin: mcuq/ops/pad.py).
 *
 * float:  y[oy][ox] = x[oy - top][ox - left] inside the image, else v
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
    const int32_t c = p->channels, out_w = p->in_w + p->pad_left + p->pad_right;
    const int32_t out_h = p->in_h + p->pad_top + p->pad_bottom;
    int32_t first, last;
    mcuq_split(out_h * out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t iy = pixel / out_w - p->pad_top, ix = pixel % out_w - p->pad_left;
        _Float16 *y = output + pixel * c;
        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
            for (int32_t k = 0; k < c; k++)
                y[k] = value;
        } else {
            const _Float16 *x = input + (iy * p->in_w + ix) * c;
            for (int32_t k = 0; k < c; k++)
                y[k] = mcuq_f16_canonical(x[k]);
        }
    }
}

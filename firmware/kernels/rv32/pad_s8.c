/* Pad, int8 (NumPy twin: mcuq/ops/pad.py).
 *
 * float:  y[top + iy sy][left + ix sx] = x[iy][ix]; every other output pixel is v
 * int8:   the codes are copied (the format does not change); the border is v's code
 * Each core takes a share of the output pixels (C contiguous values each, HWC).
 */
#include "mcuq_pad.h"
#include "mcuq_runtime.h"

void mcuq_pad_s8(const mcuq_pad_t *p, int32_t value, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    const int32_t out_h = (p->in_h - 1) * p->stride_h + 1 + p->pad_top + p->pad_bottom;
    const int32_t out_w = (p->in_w - 1) * p->stride_w + 1 + p->pad_left + p->pad_right;
    int32_t first, last;
    mcuq_split(out_h * out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t source = mcuq_pad_source(p, pixel);
        int8_t *y = output + pixel * c;
        if (source < 0) {
            for (int32_t k = 0; k < c; k++)
                y[k] = (int8_t)value;
        } else {
            const int8_t *x = input + source * c;
            for (int32_t k = 0; k < c; k++)
                y[k] = x[k];
        }
    }
}

/* Pad, int8 (NumPy twin: mcuq/ops/pad.py).
 *
 * float:  y[oy][ox] = x[oy - top][ox - left] inside the image, else v
 * int8:   the codes are copied (the format does not change); the border is v's code
 * Each core takes a share of the output pixels (C contiguous values each, HWC).
 */
#include "mcuq_pad.h"
#include "mcuq_runtime.h"

void mcuq_pad_s8(const mcuq_pad_t *p, int32_t value, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels, out_w = p->in_w + p->pad_left + p->pad_right;
    const int32_t out_h = p->in_h + p->pad_top + p->pad_bottom;
    int32_t first, last;
    mcuq_split(out_h * out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t iy = pixel / out_w - p->pad_top, ix = pixel % out_w - p->pad_left;
        int8_t *y = output + pixel * c;
        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
            for (int32_t k = 0; k < c; k++)
                y[k] = (int8_t)value;
        } else {
            const int8_t *x = input + (iy * p->in_w + ix) * c;
            for (int32_t k = 0; k < c; k++)
                y[k] = x[k];
        }
    }
}

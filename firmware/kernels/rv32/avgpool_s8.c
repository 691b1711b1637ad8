/* Average pooling, int8 (NumPy twin: mcuq/ops/avgpool.py).
 *
 * float:  y[c] = (1 / d) sum over the window's taps inside the image of x[c]
 *         (d: the taps inside, or kernel_h kernel_w with count_include_pad)
 * int8:   sum[c] = sum over the taps inside of (xq - zp_x)              (int32)
 *         y[c]   = clamp(zp_y + requant(sum[c], M[d]), -128, 127)       M[d] ~ s_x / (d s_y)
 * Each core takes a share of the output pixels; a pixel's C channels are adjacent (HWC).
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_pool.h"
#include "mcuq_runtime.h"

void mcuq_avgpool_s8(const mcuq_avgpool_s8_t *p, const int8_t *input, int8_t *output)
{
    const mcuq_window_t *g = &p->window;
    const int32_t channels = g->in_channels, zp = p->out_zero_point;
    int32_t first, last;
    mcuq_split(g->out_h * g->out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        int32_t y0, y1, x0, x1;
        mcuq_window_inside(g, pixel, &y0, &y1, &x0, &x1);
        const int32_t inside = mcuq_window_taps(g, y0, y1, x0, x1);
        const int32_t d = p->count_include_pad ? g->kernel_h * g->kernel_w : inside;
        int8_t *y = output + pixel * channels;
        for (int32_t c = 0; c < channels; c++) {
            int32_t sum = -p->in_zero_point * inside;
            for (int32_t iy = y0; iy < y1; iy += g->dilation_h)
                for (int32_t ix = x0; ix < x1; ix += g->dilation_w)
                    sum += input[(iy * g->in_w + ix) * channels + c];
            const int32_t v = mcuq_requant(sum, p->mult[d - 1], p->shift[d - 1]);
            y[c] = (int8_t)(mcuq_clamp32(v, -128 - zp, 127 - zp) + zp);
        }
    }
}

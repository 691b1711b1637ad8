/* Average pooling, fp16 (NumPy twin: mcuq/ops/avgpool.py).
 *
 * float:  y[c] = (1 / d) sum over the window's taps inside the image of x[c]
 * fp16:   acc = 0.0f; for the taps inside, in (ky, kx) order: acc = acc + (float)x;
 *         y = (_Float16)(acc / (float)d)   (float32 sums and division, each rounded once)
 * Each core takes a share of the output pixels.
 */
#include "mcuq_fp16.h"
#include "mcuq_pool.h"
#include "mcuq_runtime.h"

void mcuq_avgpool_f16(const mcuq_window_t *g, int32_t count_include_pad, const _Float16 *input,
                      _Float16 *output)
{
    const int32_t channels = g->in_channels;
    int32_t first, last;
    mcuq_split(g->out_h * g->out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        int32_t y0, y1, x0, x1;
        mcuq_window_inside(g, pixel, &y0, &y1, &x0, &x1);
        const int32_t inside = mcuq_window_taps(g, y0, y1, x0, x1);
        const int32_t d = count_include_pad ? g->kernel_h * g->kernel_w : inside;
        _Float16 *y = output + pixel * channels;
        for (int32_t c = 0; c < channels; c++) {
            float acc = 0.0f;
            for (int32_t iy = y0; iy < y1; iy += g->dilation_h)
                for (int32_t ix = x0; ix < x1; ix += g->dilation_w)
                    acc = acc + (float)input[(iy * g->in_w + ix) * channels + c];
            y[c] = mcuq_f16_canonical((_Float16)(acc / (float)d));
        }
    }
}

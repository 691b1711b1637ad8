/* Max pooling, int8 (NumPy twin: mcuq/ops/maxpool.py).
 *
 * float:  y[c] = max over the window's taps inside the image of x[c]
 * int8:   m = -128; for each tap inside the image: m = xq > m ? xq : m   (the codes keep
 *         the input's scale and zero point; max commutes with quantization)
 * Each core takes a share of the output pixels and writes the pixel's C maxima in place.
 */
#include "mcuq_pool.h"
#include "mcuq_runtime.h"

void mcuq_maxpool_s8(const mcuq_window_t *g, const int8_t *input, int8_t *output)
{
    const int32_t channels = g->in_channels;
    int32_t first, last;
    mcuq_split(g->out_h * g->out_w, &first, &last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
        int8_t *m = output + pixel * channels;
        for (int32_t c = 0; c < channels; c++)
            m[c] = -128;
        for (int32_t ky = 0; ky < g->kernel_h; ky++) {
            const int32_t iy = iy0 + ky * g->dilation_h;
            if (iy < 0 || iy >= g->in_h)
                continue;
            for (int32_t kx = 0; kx < g->kernel_w; kx++) {
                const int32_t ix = ix0 + kx * g->dilation_w;
                if (ix < 0 || ix >= g->in_w)
                    continue;
                const int8_t *x = input + (iy * g->in_w + ix) * channels;
                for (int32_t c = 0; c < channels; c++)
                    m[c] = x[c] > m[c] ? x[c] : m[c];
            }
        }
    }
}

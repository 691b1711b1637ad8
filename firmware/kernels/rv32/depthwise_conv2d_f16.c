/* Depthwise Conv2d, fp16 (NumPy twin: mcuq/ops/depthwise_conv2d.py).
 *
 * float:  y[c] = b[c] + sum_{ky, kx} W[c][ky][kx] x[c][iy][ix]          (per pixel)
 * fp16:   acc = b[c]; for (ky, kx) in order: p = fp16(W[ky][kx][c] x); acc = fp16(acc + p)
 *         (x = +0 on a padding tap: the product still rounds, as in the twin)
 *         y[c] = clamp(acc) by the fused activation's bounds (mcuq_f16_clamp)
 * Each core takes a share of the output pixels (of the channels when there are fewer
 * pixels than cores) and keeps a pixel's C accumulators in
 * its row of `work`.
 */
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_fp16.h"
#include "mcuq_runtime.h"

void mcuq_depthwise_conv2d_f16(const mcuq_depthwise_conv2d_f16_t *p, const _Float16 *input,
                               _Float16 *output, _Float16 *work)
{
    const mcuq_window_t *g = &p->window;
    const int32_t channels = g->in_channels;
    _Float16 *acc = work + mcuq_core_id() * ((channels + 1) & ~1);
    const _Float16 lo = mcuq_f16_of_bits(p->clamp_lo), hi = mcuq_f16_of_bits(p->clamp_hi);
    int32_t first, last, c0, c1;
    mcuq_conv2d_split(g->out_h * g->out_w, channels, &first, &last, &c0, &c1);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
        for (int32_t c = c0; c < c1; c++)
            acc[c] = p->bias[c];
        const _Float16 *w = p->weight;
        for (int32_t ky = 0; ky < g->kernel_h; ky++) {
            const int32_t iy = iy0 + ky * g->dilation_h;
            for (int32_t kx = 0; kx < g->kernel_w; kx++, w += channels) {
                const int32_t ix = ix0 + kx * g->dilation_w;
                if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                    for (int32_t c = c0; c < c1; c++) {
                        const _Float16 product = w[c] * (_Float16)0;
                        acc[c] = acc[c] + product;
                    }
                    continue;
                }
                const _Float16 *x = input + (iy * g->in_w + ix) * channels;
                for (int32_t c = c0; c < c1; c++) {
                    const _Float16 product = w[c] * x[c];
                    acc[c] = acc[c] + product;
                }
            }
        }
        _Float16 *y = output + pixel * channels;
        for (int32_t c = c0; c < c1; c++)
            y[c] = mcuq_f16_canonical(mcuq_f16_clamp(acc[c], lo, hi));
    }
}

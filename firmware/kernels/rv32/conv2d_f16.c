/* Conv2d, fp16 (NumPy twin: mcuq/ops/conv2d.py).
 *
 * float:  y[co] = b[co] + sum_{ky, kx, ci} W[co][ci][ky][kx] x[ci][iy][ix]  (per pixel)
 * fp16:   per output pixel, the im2col column (padding taps = +0), then the matvec
 *         core of matvec.h: acc = b[co]; for k in column order: acc = fp16(acc +
 *         fp16(W[co][k] col[k])); y = clamp(acc) by the fused activation's bounds.
 * Each core takes a share of the output pixels (of the channels when there are fewer
 * pixels than cores); one column feeds every output channel.
 */
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_runtime.h"
#include "mcuq_window.h"

void mcuq_conv2d_f16(const mcuq_conv2d_f16_t *p, const _Float16 *input, _Float16 *output,
                     _Float16 *column)
{
    const mcuq_window_t *g = &p->window;
    const int32_t k = p->matvec.in_features, channels = p->matvec.out_features;
    const int32_t pixel_stride = g->stride_w * g->in_channels;
    uint8_t *col = (uint8_t *)(column + mcuq_core_id() * ((k + 3) & ~3));
    int32_t first, last, group_first, group_last;
    mcuq_conv2d_split(g->out_h * g->out_w, (channels + 3) / 4, &first, &last, &group_first,
                      &group_last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        const _Float16 *x = p->in_place
            ? input + oy * g->stride_h * g->in_w * g->in_channels + ox * pixel_stride
            : (const _Float16 *)mcuq_im2col(g, (const uint8_t *)input, 2, oy, ox, 0, col);
        mcuq_matvec_f16(&p->matvec, group_first, group_last, x, output + pixel * channels);
    }
}

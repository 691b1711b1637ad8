/* Depthwise Conv2d, int8 (NumPy twin: mcuq/ops/depthwise_conv2d.py).
 *
 * float:  y[c] = b[c] + sum_{ky, kx} W[c][ky][kx] x[c][iy][ix]          (per pixel)
 * int8:   acc[c] = bq[c] + sum_{ky, kx} Wq[ky][kx][c] xq[iy][ix][c]     (int32; zp_x
 *         folded into bq, so a padding tap adds zp_x Wq: depthwise.h)
 *         y[c]   = clamp(zp_y + requant(acc[c], M[c]), act_min, act_max)
 * Each core takes a share of the output pixels (of the channels when there are fewer
 * pixels than cores) and keeps a pixel's C accumulators in
 * its row of `work`: tap by tap, C contiguous inputs meet C contiguous weights.
 */
#include "depthwise.h"
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_fixedpoint.h"
#include "mcuq_runtime.h"

void mcuq_depthwise_conv2d_s8(const mcuq_depthwise_conv2d_s8_t *p, const int8_t *input,
                              int8_t *output, int32_t *work)
{
    const mcuq_window_t *g = &p->window;
    const int32_t channels = g->in_channels, zp = p->out_zero_point;
    int32_t *acc = work + mcuq_core_id() * ((channels + 1) & ~1);
    int32_t first, last, c0, c1;
    mcuq_conv2d_split(g->out_h * g->out_w, channels, &first, &last, &c0, &c1);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        mcuq_depthwise_taps_s8(p, input, oy, ox, c0, c1, acc);
        int8_t *y = output + pixel * channels;
        for (int32_t c = c0; c < c1; c++) {
            const int32_t r = mcuq_requant(acc[c], p->mult[c], p->shift[c]);
            y[c] = (int8_t)(mcuq_clamp32(r, p->act_min - zp, p->act_max - zp) + zp);
        }
    }
}

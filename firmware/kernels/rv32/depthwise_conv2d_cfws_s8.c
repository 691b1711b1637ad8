/* Depthwise Conv2d with coarse & fine weight splitting, int8 (NumPy twin:
 * mcuq/ops/depthwise_conv2d_cfws.py).
 *
 * float:  y[c] = b[c] + sum W[c][ky][kx] x[c][iy][ix],  W = coarse centre + fine
 * int8:   acc_f[c] = bq[c] + sum_{ky, kx} Fq[ky][kx][c] xq[iy][ix][c]  (depthwise.h)
 *         acc_c[c] = Cq[c] x_centre[c] + cb[c]           (the window's centre pixel)
 *         acc[c]   = acc_f[c] + requant(acc_c[c], R[c])  (R: coarse / fine scale)
 *         y[c]     = clamp(zp_y + requant(acc[c], M[c]), act_min, act_max)
 * The export checks that acc cannot overflow int32. The work split is the depthwise
 * kernel's: a share of the output pixels per core (of the channels when there are fewer
 * pixels than cores).
 */
#include "depthwise.h"
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_fixedpoint.h"
#include "mcuq_runtime.h"

void mcuq_depthwise_conv2d_cfws_s8(const mcuq_depthwise_conv2d_cfws_s8_t *p,
                                   const int8_t *input, int8_t *output, int32_t *work)
{
    const mcuq_depthwise_conv2d_s8_t *f = &p->conv;
    const mcuq_window_t *g = &f->window;
    const int32_t channels = g->in_channels, zp = f->out_zero_point;
    const int32_t centre_y = g->kernel_h / 2 - g->pad_top, centre_x = g->kernel_w / 2 - g->pad_left;
    int32_t *acc = work + mcuq_core_id() * ((channels + 1) & ~1);
    int32_t first, last, c0, c1;
    mcuq_conv2d_split(g->out_h * g->out_w, channels, &first, &last, &c0, &c1);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        mcuq_depthwise_taps_s8(f, input, oy, ox, c0, c1, acc);
        const int8_t *centre = input + ((oy * g->stride_h + centre_y) * g->in_w
                                        + ox * g->stride_w + centre_x) * channels;
        int8_t *y = output + pixel * channels;
        for (int32_t c = c0; c < c1; c++) {
            const int32_t coarse = mcuq_requant(p->coarse[c] * centre[c] + p->coarse_bias[c],
                                                p->coarse_mult[c], p->coarse_shift[c]);
            const int32_t r = mcuq_requant(acc[c] + coarse, f->mult[c], f->shift[c]);
            y[c] = (int8_t)(mcuq_clamp32(r, f->act_min - zp, f->act_max - zp) + zp);
        }
    }
}

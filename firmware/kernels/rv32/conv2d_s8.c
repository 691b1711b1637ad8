/* Conv2d, int8 (NumPy twin: mcuq/ops/conv2d.py).
 *
 * float:  y[co] = b[co] + sum_{ky, kx, ci} W[co][ci][ky][kx] x[ci][iy][ix]  (per pixel)
 * int8:   per output pixel, the im2col column (padding taps = zp_x, so the zp_x sum W
 *         folded into bq stays exact), then the matvec core of matvec.h:
 *         acc[co] = sum_k Wq[co][k] col[k] + bq[co];
 *         y[co]   = clamp(zp_y + requant(acc[co], M[co]), act_min, act_max)
 * Each core takes a share of the output pixels (of the channels when there are fewer
 * pixels than cores); one column feeds every output channel,
 * eight at a time.
 */
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_runtime.h"
#include "mcuq_window.h"

/* the kernel with or without a side list of outliers (a constant at each call: the
 * dense form is compiled on its own, with no test per pixel) */
static inline __attribute__((always_inline)) void
mcuq_conv2d_pixels_s8(const mcuq_conv2d_s8_t *p, const int8_t *input, int8_t *output,
                      int8_t *column, const int32_t with_outliers)
{
    const mcuq_window_t *g = &p->window;
    const int32_t k = p->matvec.in_features, channels = p->matvec.out_features;
    const int32_t pixel_stride = g->stride_w * g->in_channels;
    uint8_t *col = (uint8_t *)column + mcuq_core_id() * ((k + 3) & ~3);
    int32_t first, last, group_first, group_last;
    mcuq_conv2d_split(g->out_h * g->out_w, (channels + 3) / 4, &first, &last, &group_first,
                      &group_last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        const int8_t *x = p->in_place
            ? input + oy * g->stride_h * g->in_w * g->in_channels + ox * pixel_stride
            : (const int8_t *)mcuq_im2col(g, (const uint8_t *)input, 1, oy, ox,
                                          (uint8_t)p->in_zero_point, col);
        mcuq_matvec_rows_s8(&p->matvec, group_first, group_last, x, output + pixel * channels,
                            with_outliers);
    }
}

void mcuq_conv2d_s8(const mcuq_conv2d_s8_t *p, const int8_t *input, int8_t *output,
                    int8_t *column)
{
    if (p->matvec.outlier_count)
        mcuq_conv2d_pixels_s8(p, input, output, column, 1);
    else
        mcuq_conv2d_pixels_s8(p, input, output, column, 0);
}

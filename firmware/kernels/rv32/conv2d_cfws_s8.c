/* Conv2d with coarse & fine weight splitting, int8 (NumPy twin: mcuq/ops/conv2d_cfws.py).
 *
 * float:  y[co] = b[co] + sum W[co][ci][ky][kx] x[ci][iy][ix],  W = coarse centre + fine
 * int8:   acc_f[co] = sum_k Fq[co][k] col[k] + bq[co]          (the conv2d column; Fq's
 *                                                               outliers from the side list)
 *         acc_c[co] = sum_ci Cq[co][ci] x_centre[ci] + cb[co]  (the window's centre pixel;
 *                     a 1x1 kernel's diagonal: Cq[co] x_centre[co] + cb[co])
 *         acc[co]   = acc_f[co] + requant(acc_c[co], R[co])    (R: coarse / fine scale)
 *         y[co]     = clamp(zp_y + requant(acc[co], M[co]), act_min, act_max)
 * The export checks that acc cannot overflow int32. Each core takes a share of the output
 * pixels (of the channel groups when there are fewer pixels than cores); the column and the centre pixel each feed every output channel, eight at a time.
 */
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_fixedpoint.h"
#include "mcuq_isa.h"
#include "mcuq_runtime.h"
#include "mcuq_window.h"

/* the kernel with or without the fine part's side list of outliers, with a dense or a
 * diagonal coarse part (constants at each call: each form is compiled on its own, with
 * no test in its loops) */
static inline __attribute__((always_inline)) void
mcuq_conv2d_cfws_rows_s8(const mcuq_conv2d_cfws_s8_t *p, const int8_t *input, int8_t *output,
                         int8_t *column, const int32_t with_outliers, const int32_t diagonal)
{
    const mcuq_linear_s8_t *m = &p->conv.matvec;
    const mcuq_window_t *g = &p->conv.window;
    const int32_t k = m->in_features, channels = m->out_features, cin = g->in_channels;
    const int32_t zp = m->out_zero_point, groups = (channels + 3) / 4;
    const int32_t row = MCUQ_ROW_S8(k), crow = MCUQ_ROW_S8(cin);
    const int32_t centre_y = g->kernel_h / 2 - g->pad_top, centre_x = g->kernel_w / 2 - g->pad_left;
    uint8_t *col = (uint8_t *)column + mcuq_core_id() * MCUQ_COLUMN_SPAN(k);
    mcuq_inside_t inside;
    if (!p->conv.in_place)
        mcuq_inside_of(g, 1, &inside);
    int32_t first, last, group_first, group_last;
    mcuq_conv2d_split(g->out_h * g->out_w, groups, &first, &last, &group_first, &group_last);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
        /* a 1x1 kernel without padding (a diagonal split) reads the input pixel in place */
        const int8_t *x = p->conv.in_place
            ? input + (oy * g->stride_h * g->in_w + ox * g->stride_w) * cin
            : (const int8_t *)mcuq_im2col_inside(g, &inside, (const uint8_t *)input, oy, ox,
                                                 (uint8_t)p->conv.in_zero_point, col);
        const int8_t *centre = input + ((oy * g->stride_h + centre_y) * g->in_w
                                        + ox * g->stride_w + centre_x) * cin;
        int8_t *y = output + pixel * channels;
        int32_t entry = with_outliers ? mcuq_outlier_entry(m->outlier_count, 4 * group_first) : 0;
        for (int32_t group = group_first; group < group_last; group += 2) {
            const int32_t n = 4 * group;
            const int32_t lanes = group_last - group < 2 ? 4 : 8;
            const int32_t rows = channels - n < lanes ? channels - n : lanes;
            int32_t fine[8] = {0, 0, 0, 0, 0, 0, 0, 0}, coarse[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            if (lanes == 8)
                mcuq_dot4i2_s8(m->weight + n * row, m->weight + (n + 4) * row, x, k, fine, fine + 4);
            else
                mcuq_dot4i_s8(m->weight + n * row, x, k, fine);
            if (diagonal)
                for (int32_t r = 0; r < rows; r++)
                    coarse[r] = p->coarse[n + r] * centre[n + r];
            else if (lanes == 8)
                mcuq_dot4i2_s8(p->coarse + n * crow, p->coarse + (n + 4) * crow, centre, cin,
                               coarse, coarse + 4);
            else
                mcuq_dot4i_s8(p->coarse + n * crow, centre, cin, coarse);
            if (with_outliers)
                mcuq_outliers_s8(m, n, rows, x, fine, &entry);
            for (int32_t r = 0; r < rows; r++) {
                const int32_t c = mcuq_requant(coarse[r] + p->coarse_bias[n + r],
                                               p->coarse_mult[n + r], p->coarse_shift[n + r]);
                const int32_t v = mcuq_requant(m->bias[n + r] + fine[r] + c, m->mult[n + r],
                                               m->shift[n + r]);
                y[n + r] = (int8_t)(mcuq_clamp32(v, m->act_min - zp, m->act_max - zp) + zp);
            }
        }
    }
}

void mcuq_conv2d_cfws_s8(const mcuq_conv2d_cfws_s8_t *p, const int8_t *input, int8_t *output,
                         int8_t *column)
{
    if (p->diagonal)
        mcuq_conv2d_cfws_rows_s8(p, input, output, column, p->conv.matvec.outlier_count != 0, 1);
    else if (p->conv.matvec.outlier_count)
        mcuq_conv2d_cfws_rows_s8(p, input, output, column, 1, 0);
    else
        mcuq_conv2d_cfws_rows_s8(p, input, output, column, 0, 0);
}

/* Conv2d, int8 (NumPy twin: mcuq/ops/conv2d.py).
 *
 * float:  y[co] = b[co] + sum_{ky, kx, ci} W[co][ci][ky][kx] x[ci][iy][ix]  (per pixel)
 * int8:   per output pixel, the im2col column (padding taps = zp_x, so the zp_x sum W
 *         folded into bq stays exact; a 1x1 kernel without padding reads the input pixel
 *         in place), then
 *         acc[co] = sum_k Wq[co][k] col[k] + bq[co];
 *         y[co]   = clamp(zp_y + requant(acc[co], M[co]), act_min, act_max)
 * Output-stationary blocking of 2 pixels x 4 channels: the columns of two neighbouring
 * pixels go through each block of four output channels together, so every weight word
 * loaded serves both (mcuq_dot4i_2x_s8); a last odd pixel runs the one-column matvec.
 * When every channel takes mcuq_requant_zp8 (requant_zp8, worked out at export: shifts of
 * 33 to 54, an activation range of all int8), a block of 8 or 4 channels starts from the
 * biases and requantizes from registers: mulh, one rounding shift that adds zp_y 2^n, a
 * clip.
 *
 * Work split: the units are (pixel pair, channel group) in pair-major order, and each core
 * takes a contiguous share, so a map with fewer pixels than cores (2x2 at the end of a
 * classifier) still keeps every core busy. A core gathers each pair's two columns once
 * for all the groups of its share; with fewer pairs than cores, where shares would meet
 * inside most pairs, the cores first gather every column once into shared scratch, from
 * the layer's tap table (worked out at export).
 */
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_runtime.h"
#include "mcuq_window.h"

/* channel c + r's two outputs from their sums (which started from the biases):
 * mcuq_requant_zp8 with constant indices, so the sums stay in registers */
#define MCUQ_CONV2D_OUT8(r)                                                               \
    do {                                                                                  \
        const int32_t n_ = shift[c + (r)] - 32, m_ = mult[c + (r)], zs_ = zp * (1 << n_);  \
        y0[c + (r)] = (int8_t)mcuq_requant_zp8(acc0[r], m_, n_, zs_);                      \
        y1[c + (r)] = (int8_t)mcuq_requant_zp8(acc1[r], m_, n_, zs_);                      \
    } while (0)

/* one output pixel: each core a share of the channel groups over the one column */
static __attribute__((noinline)) void mcuq_conv2d_pixel_s8(const mcuq_conv2d_s8_t *p,
                                                          const int8_t *input, int8_t *output,
                                                          uint8_t *col, int32_t with_outliers)
{
    int32_t g0, g1;
    mcuq_split((p->matvec.out_features + 3) / 4, &g0, &g1);
    const int8_t *x = p->in_place ? input
        : (const int8_t *)mcuq_im2col(&p->window, (const uint8_t *)input, 1, 0, 0,
                                      (uint8_t)p->in_zero_point, col);
    if (with_outliers)
        mcuq_matvec_rows_s8(&p->matvec, g0, g1, x, output, 1);
    else
        mcuq_matvec_rows_s8(&p->matvec, g0, g1, x, output, 0);
}

/* the kernel with or without a side list of outliers (a constant at each call: the
 * dense form is compiled on its own, with no test per pixel) */
static inline __attribute__((always_inline)) void
mcuq_conv2d_pixels_s8(const mcuq_conv2d_s8_t *p, const int8_t *input, int8_t *output,
                      int8_t *column, const int32_t with_outliers)
{
    /* the fields in locals: the output stores could alias them (see matvec.h) */
    const mcuq_linear_s8_t *m = &p->matvec;
    const int32_t k = m->in_features, channels = m->out_features, groups = (channels + 3) / 4;
    const int32_t row = MCUQ_ROW_S8(k), span = MCUQ_COLUMN_SPAN(k), out_w = p->window.out_w;
    const int32_t pixels = p->window.out_h * out_w;
    const int32_t zp = m->out_zero_point, lo = m->act_min - zp, hi = m->act_max - zp;
    const int8_t *const weight = m->weight;
    const int32_t *const bias = m->bias, *const mult = m->mult, *const shift = m->shift;
    /* a gathered column is read in whole words: its bytes past k meet the zero weights
     * that pad each row to a whole word (xcv), so no tail word is built per group; it has
     * 3 bytes of slack past them (short window rows are copied in whole words) */
    const int32_t in_place = p->in_place, n = in_place ? k : row;
    const mcuq_window_t *g = &p->window;
    const int32_t pixel_step = g->stride_w * g->in_channels;
    const int32_t line_step = g->stride_h * g->in_w * g->in_channels;
    const uint8_t pad = (uint8_t)p->in_zero_point;
    mcuq_inside_t inside;
    /* fewer pixel pairs than cores: the cores gather each column once, pixel p's at
     * column + p span (the scratch holds 2 MCUQ_MAX_CORES columns), and all compute from
     * there after a barrier; otherwise each core gathers its pairs into its own two */
    const int32_t cores = mcuq_core_count(), pairs = (pixels + 1) / 2;
    const int32_t shared = !in_place && cores > 1 && pairs < cores && p->taps;
    uint8_t *col0 = (uint8_t *)column + mcuq_core_id() * 2 * span, *col1 = col0 + span;
    if (shared) {
        int32_t t0, t1;
        const int32_t taps = g->kernel_h * g->kernel_w;
        mcuq_split(pixels * taps, &t0, &t1);
        mcuq_im2col_table(p->taps, taps, g->in_channels, (const uint8_t *)input, pad,
                          (uint8_t *)column, span, t0, t1);
        mcuq_cluster_barrier();
    } else if (!in_place) {
        mcuq_fill_bytes(col0 + k, 0, span - k);
        mcuq_fill_bytes(col1 + k, 0, span - k);
        mcuq_inside_of(g, 1, &inside);
    }
    int32_t first, last;
    mcuq_split(pairs * groups, &first, &last);
    if (first >= last)
        return;
    int32_t pair = first / groups, g0 = first - pair * groups;
    const int32_t fast = !with_outliers && m->requant_zp8;
    int32_t oy = (2 * pair) / out_w, ox = 2 * pair - oy * out_w;  /* of the pair's first pixel */
    for (int32_t unit = first; unit < last; pair++, g0 = 0) {
        const int32_t g1 = last - unit < groups - g0 ? g0 + (last - unit) : groups;
        const int32_t pixel = 2 * pair;
        /* the pixel's column: in place, gathered before, or gathered now */
        const int8_t *x0 = in_place ? input + oy * line_step + ox * pixel_step
            : shared ? (const int8_t *)column + pixel * span
            : (const int8_t *)mcuq_im2col_inside(g, &inside, (const uint8_t *)input, oy, ox, pad, col0);
        int8_t *y0 = output + pixel * channels;
        if (++ox == out_w) {
            ox = 0;
            oy++;
        }
        if (pixel + 1 == pixels) {  /* the last pixel of an odd count */
            mcuq_matvec_rows_s8(m, g0, g1, x0, y0, with_outliers);
        } else {
            const int8_t *x1 = in_place ? input + oy * line_step + ox * pixel_step
                : shared ? (const int8_t *)column + (pixel + 1) * span
                : (const int8_t *)mcuq_im2col_inside(g, &inside, (const uint8_t *)input, oy, ox, pad,
                                                  col1);
            int8_t *y1 = y0 + channels;
            int32_t entry = with_outliers ? mcuq_outlier_entry(m->outlier_count, 4 * g0) : 0;
            for (int32_t group = g0; group < g1;) {
                /* two groups (8 channels) at a time while two are left, then one */
                const int32_t c = 4 * group, blocks = g1 - group < 2 ? 1 : 2;
                const int32_t rows = channels - c < 4 * blocks ? channels - c : 4 * blocks;
                if (fast && rows == 8) {  /* the sums from the biases, no arrays in memory */
                    int32_t acc0[8], acc1[8];
                    for (int32_t r = 0; r < 8; r++)
                        acc0[r] = acc1[r] = bias[c + r];
                    mcuq_dot4i2_2x_s8(weight + c * row, weight + (c + 4) * row, x0, x1, n,
                                      acc0, acc1, acc0 + 4, acc1 + 4);
                    MCUQ_CONV2D_OUT8(0);
                    MCUQ_CONV2D_OUT8(1);
                    MCUQ_CONV2D_OUT8(2);
                    MCUQ_CONV2D_OUT8(3);
                    MCUQ_CONV2D_OUT8(4);
                    MCUQ_CONV2D_OUT8(5);
                    MCUQ_CONV2D_OUT8(6);
                    MCUQ_CONV2D_OUT8(7);
                    group += 2;
                    continue;
                }
                if (fast && rows == 4) {  /* the same for a last block of 4 */
                    int32_t acc0[4], acc1[4];
                    for (int32_t r = 0; r < 4; r++)
                        acc0[r] = acc1[r] = bias[c + r];
                    mcuq_dot4i_2x_s8(weight + c * row, x0, x1, n, acc0, acc1);
                    MCUQ_CONV2D_OUT8(0);
                    MCUQ_CONV2D_OUT8(1);
                    MCUQ_CONV2D_OUT8(2);
                    MCUQ_CONV2D_OUT8(3);
                    group++;
                    continue;
                }
                int32_t acc0[8] = {0, 0, 0, 0, 0, 0, 0, 0}, acc1[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                if (blocks == 2)
                    mcuq_dot4i2_2x_s8(weight + c * row, weight + (c + 4) * row, x0, x1, n,
                                      acc0, acc1, acc0 + 4, acc1 + 4);
                else
                    mcuq_dot4i_2x_s8(weight + c * row, x0, x1, n, acc0, acc1);
                if (with_outliers) {
                    int32_t again = entry;  /* the same rows' side list, for each pixel */
                    mcuq_outliers_s8(m, c, rows, x0, acc0, &again);
                    mcuq_outliers_s8(m, c, rows, x1, acc1, &entry);
                }
                for (int32_t r = 0; r < rows; r++) {
                    const int32_t a = mcuq_requant(bias[c + r] + acc0[r], mult[c + r], shift[c + r]);
                    const int32_t b = mcuq_requant(bias[c + r] + acc1[r], mult[c + r], shift[c + r]);
                    /* clamp before adding zp so the sum cannot overflow */
                    y0[c + r] = (int8_t)(mcuq_clamp32(a, lo, hi) + zp);
                    y1[c + r] = (int8_t)(mcuq_clamp32(b, lo, hi) + zp);
                }
                group += blocks;
            }
            if (++ox == out_w) {
                ox = 0;
                oy++;
            }
        }
        unit += g1 - g0;
    }
}

void mcuq_conv2d_s8(const mcuq_conv2d_s8_t *p, const int8_t *input, int8_t *output,
                    int8_t *column)
{
    /* one pixel (a classifier's last map) read in place, or on one core: a share of the
     * groups each (several cores gather one column together in the pair kernel) */
    if (p->window.out_h * p->window.out_w == 1 && (p->in_place || mcuq_core_count() == 1)) {
        mcuq_conv2d_pixel_s8(p, input, output, (uint8_t *)column, p->matvec.outlier_count != 0);
        return;
    }
    if (p->matvec.outlier_count)
        mcuq_conv2d_pixels_s8(p, input, output, column, 1);
    else
        mcuq_conv2d_pixels_s8(p, input, output, column, 0);
}
#undef MCUQ_CONV2D_OUT8

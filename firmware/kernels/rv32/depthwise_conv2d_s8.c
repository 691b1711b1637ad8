/* Depthwise Conv2d, int8 (NumPy twin: mcuq/ops/depthwise_conv2d.py).
 *
 * float:  y[c] = b[c] + sum_{ky, kx} W[c][ky][kx] x[c][iy][ix]          (per pixel)
 * int8:   acc[c] = bq[c] + sum_{ky, kx} Wq[ky][kx][c] xq[iy][ix][c]     (int32; zp_x
 *         folded into bq, so a padding tap adds zp_x Wq: depthwise.h)
 *         y[c]   = clamp(zp_y + requant(acc[c], M[c]), act_min, act_max)
 *
 * 3x3 without dilation on maps of 2 pixels or more (MobileNet's and MobileOne's
 * depthwise layers): each core takes a share of the channels and lays each channel's
 * image out in a plane of its own (rows of contiguous bytes; the padding, zp_x, is laid
 * once per layer, and each channel writes only its image: mcuq_gather_plane_s8, or four
 * channels at a time where the export gave each core planes for a chunk of channels,
 * p->planes: mcuq_gather_planes4_s8), so that a window row's three taps are adjacent.
 * Every output is then three products of three taps (mcuq_dot3_s8: one SIMD dot product
 * each on xcv),
 * with the channel's weights (laid out by window rows at export, a word each:
 * mcuq/layouts.py taps_rows) and requantization in registers: one 32-bit multiply,
 * where the export's short multipliers keep acc mult in int32 (requant_mul;
 * mcuq/fixedpoint.py short_multipliers). The outputs go down each column, so the window
 * rows stay in registers and each output loads one new row (two at vertical stride 2);
 * at horizontal stride 1 two columns go down together and share each row word
 * (mcuq_dw3_column_pairs_s8), and at vertical stride 2 single columns go in one loop
 * (mcuq_dw3_columns_step2_s8; hardware loops on xcv). On xcv, 2x2 and 4x4 maps at stride
 * 1 take a whole chunk of channels in one loop (mcuq_dw3_channels_s8), so no C runs
 * between channels.
 * Other kernels and 1-pixel maps (where a plane costs more than it saves): each core
 * takes a share of the output pixels (of the channels when there are fewer pixels than
 * cores) and keeps a pixel's C accumulators in its row of `work`: tap by tap, C
 * contiguous inputs meet C contiguous weights.
 */
#include "depthwise.h"
#include "matvec.h"
#include "mcuq_conv2d.h"
#include "mcuq_fixedpoint.h"
#include "mcuq_isa.h"
#include "mcuq_runtime.h"
#include "mcuq_window.h"

/* A map of at most 4 pixels (MobileOne's last stages on a small image): a channel's
 * whole input map is one word, byte iy in_w + ix, and every output is one 4-way dot
 * product of that word with the output's tap word, from a bias into which the export
 * folded the output's padding taps (mcuq/ops/depthwise_conv2d.py map_arrays):
 *     acc[c][o] = bq[c][o] + sum_{k < 4} Wq[c][o][k] xq[k][c]      (int32, the twin's sum)
 * No plane and no scratch: each core takes a share of the channels; on xcv, 2x2 maps go
 * through one hardware loop over them (mcuq_dw_map_channels_s8), a channel in about 40
 * cycles where its plane cost 90. */
static void mcuq_depthwise_map_s8(const mcuq_depthwise_conv2d_s8_t *p, const int8_t *input,
                                  int8_t *output)
{
    const mcuq_window_t *g = &p->window;
    const int32_t channels = g->in_channels, zp = p->out_zero_point;
    const int32_t lo = p->act_min - zp, hi = p->act_max - zp;
    const int32_t pixels = g->in_h * g->in_w, outputs = g->out_h * g->out_w;
    int32_t c0, c1;
    mcuq_split(channels, &c0, &c1);
    if (c0 >= c1)
        return;
    if (p->requant_mul == 2 &&
        mcuq_dw_map_channels_s8(input + c0, output + c0, channels, pixels, outputs, c1 - c0,
                                p->weight + 4 * outputs * c0, p->bias + outputs * c0,
                                p->mult + c0, p->shift + c0, zp))
        return;
    for (int32_t c = c0; c < c1; c++) {
        int8_t map[4] = {0, 0, 0, 0};
        for (int32_t k = 0; k < pixels; k++)
            map[k] = input[k * channels + c];
        const int8_t *w = p->weight + 4 * outputs * c;
        const int32_t *bias = p->bias + outputs * c;
        for (int32_t o = 0; o < outputs; o++, w += 4) {
            const int32_t acc = bias[o] + w[0] * map[0] + w[1] * map[1] + w[2] * map[2]
                                + w[3] * map[3];
            const int32_t v = mcuq_requant(acc, p->mult[c], p->shift[c]);
            output[o * channels + c] = (int8_t)(mcuq_clamp32(v, lo, hi) + zp);
        }
    }
}

/* The planes of a core's channels: its share of the channels, in chunks of up to
 * p->planes, a plane each. Row r, column q of a plane hold input pixel (r - pad_top,
 * q - pad_left), zp_x outside the image: the padding is laid once, each channel writes
 * only its image. */
typedef struct {
    uint8_t *plane, *image;
    int32_t stride, plane_bytes, src_stride, rows, cols, c0, c1, chunk;
} mcuq_dw3_planes_t;

/* the core's planes laid out; 0 when it has no channels */
static inline __attribute__((always_inline)) int32_t
mcuq_dw3_planes(const mcuq_depthwise_conv2d_s8_t *p, int32_t *work, mcuq_dw3_planes_t *q)
{
    const mcuq_window_t *g = &p->window;
    const int32_t plane_h = mcuq_depthwise_plane_rows(g);
    q->stride = mcuq_depthwise_plane_stride(g);
    q->plane_bytes = 4 * mcuq_depthwise_plane_words(g);
    q->src_stride = g->in_w * g->in_channels;
    q->plane = (uint8_t *)work + mcuq_core_id() * p->planes * q->plane_bytes;
    mcuq_split(g->in_channels, &q->c0, &q->c1);
    if (q->c0 >= q->c1)
        return 0;
    q->chunk = p->planes < q->c1 - q->c0 ? p->planes : q->c1 - q->c0;
    mcuq_fill_bytes(q->plane, (uint8_t)p->in_zero_point, q->chunk * q->plane_bytes);
    q->image = q->plane + g->pad_top * q->stride + g->pad_left;
    q->rows = g->in_h < plane_h - g->pad_top ? g->in_h : plane_h - g->pad_top;
    q->cols = g->in_w < q->stride - g->pad_left ? g->in_w : q->stride - g->pad_left;
    return 1;
}

/* the images of channels start .. start + n - 1 into the chunk's planes: four at a time
 * where four planes are left (a word of the input holds a pixel's four channels:
 * mcuq_gather_planes4_s8), the rest one at a time */
static inline __attribute__((always_inline)) void
mcuq_dw3_gather(const mcuq_dw3_planes_t *q, const int8_t *input, int32_t channels,
                int32_t start, int32_t n)
{
    mcuq_gather_planes4_s8(q->image, q->stride, q->plane_bytes, input + start, channels,
                           q->src_stride, q->rows, q->cols, n >> 2);
    for (int32_t k = n & ~3; k < n; k++)
        mcuq_gather_plane_s8(q->image + k * q->plane_bytes, q->stride, input + start + k,
                             channels, q->src_stride, q->rows, q->cols);
}

/* A small map whose shape the ISA has a loop over a whole chunk for
 * (mcuq_dw3_channels_shape), every channel taking the one multiply (requant_mul 2): no
 * C runs between channels. Apart from the channel-by-channel kernel below, so that clang
 * hoists none of that kernel's set-up into this one (on 8 cores a 4x4 map's layer spent
 * 160 cycles of its 2,100 there). */
static __attribute__((noinline)) void
mcuq_depthwise3x3_chunks_s8(const mcuq_depthwise_conv2d_s8_t *p, const int8_t *input,
                            int8_t *output, int32_t *work)
{
    const mcuq_window_t *g = &p->window;
    mcuq_dw3_planes_t q;
    if (!mcuq_dw3_planes(p, work, &q))
        return;
    for (int32_t start = q.c0; start < q.c1; start += q.chunk) {
        const int32_t n = q.c1 - start < q.chunk ? q.c1 - start : q.chunk;
        mcuq_dw3_gather(&q, input, g->in_channels, start, n);
        mcuq_dw3_channels_s8((const int8_t *)q.plane, q.plane_bytes, q.stride, g->stride_h,
                             g->stride_w, g->out_h, g->out_w, output + start, g->in_channels,
                             n, p->weight + 12 * start, p->bias + start, p->mult + start,
                             p->shift + start, p->out_zero_point);
    }
}

/* Channel by channel (not inlined: the pixel loop below keeps its own registers) */
static __attribute__((noinline)) void mcuq_depthwise3x3_s8(const mcuq_depthwise_conv2d_s8_t *p,
                                                           const int8_t *input, int8_t *output,
                                                           int32_t *work)
{
    const mcuq_window_t *g = &p->window;
    const int32_t channels = g->in_channels, sh = g->stride_h, sw = g->stride_w;
    const int32_t out_h = g->out_h, out_w = g->out_w;
    const int32_t zp = p->out_zero_point, lo = p->act_min - zp, hi = p->act_max - zp;
    const int32_t ystep = out_w * channels;
    /* the column loops' requantization is one 32-bit multiply and a clamp to the int8
     * range, for a channel whose multiplier the export shortened (shift <= 31) where it
     * proved that exact: nearly every channel (a ReLU's output has zero point -128, and
     * a 3x3 channel's sums leave room for a 13-bit multiplier) */
    const int32_t columns = p->requant_mul && sh <= 2;
    mcuq_dw3_planes_t q;
    if (!mcuq_dw3_planes(p, work, &q))
        return;
    const int32_t stride = q.stride;
    for (int32_t start = q.c0; start < q.c1; start += q.chunk) {
        const int32_t n = q.c1 - start < q.chunk ? q.c1 - start : q.chunk;
        mcuq_dw3_gather(&q, input, channels, start, n);
        for (int32_t c = start; c < start + n; c++) {
            const int8_t *top = (const int8_t *)q.plane + (c - start) * q.plane_bytes;
            const int8_t *w = p->weight + 12 * c;  /* its window rows' taps, a word each */
            const mcuq_taps3_t w0 = mcuq_taps3_row_s8(w);
            const mcuq_taps3_t w1 = mcuq_taps3_row_s8(w + 4);
            const mcuq_taps3_t w2 = mcuq_taps3_row_s8(w + 8);
            const int32_t bias = p->bias[c], mult = p->mult[c], shift = p->shift[c];
            int32_t first_row = 0;
            if (columns && shift <= 31) {
                /* down each column (two at a time at horizontal stride 1), the window
                 * rows in registers */
                const int8_t *col = top;
                int8_t *y = output + c;
                int32_t ox = 0;
                if (sw == 1) {
                    ox = out_w & ~1;
                    mcuq_dw3_column_pairs_s8(col, stride, sh, y, ystep, channels, out_w >> 1,
                                             out_h, w0, w1, w2, bias, mult, shift, zp);
                    col += ox;
                    y += ox * channels;
                }
                if (sh == 2)  /* the columns left, in one loop */
                    mcuq_dw3_columns_step2_s8(col, stride, sw, y, ystep, channels, out_w - ox,
                                              out_h, w0, w1, w2, bias, mult, shift, zp);
                else
                    for (; ox < out_w; ox++, col += sw, y += channels)
                        mcuq_dw3_column_s8(col, stride, sh, y, ystep, out_h, w0, w1, w2, bias,
                                           mult, shift, zp);
                first_row = out_h;
            }
            /* otherwise (a multiplier the export kept long, or a narrower activation
             * range: the general requantization) row by row */
            int8_t *y = output + first_row * ystep + c;
            for (int32_t oy = first_row; oy < out_h; oy++) {
                const int8_t *r0 = top + oy * sh * stride;
                const int8_t *r1 = r0 + stride, *r2 = r1 + stride;
                for (int32_t ox = 0; ox < out_w;
                     ox++, r0 += sw, r1 += sw, r2 += sw, y += channels) {
                    int32_t acc = mcuq_dot3_s8(bias, w0, r0);
                    acc = mcuq_dot3_s8(acc, w1, r1);
                    acc = mcuq_dot3_s8(acc, w2, r2);
                    const int32_t v = mcuq_requant(acc, mult, shift);
                    *y = (int8_t)(mcuq_clamp32(v, lo, hi) + zp);
                }
            }
        }
    }
}

void mcuq_depthwise_conv2d_s8(const mcuq_depthwise_conv2d_s8_t *p, const int8_t *input,
                              int8_t *output, int32_t *work)
{
    const mcuq_window_t *g = &p->window;
    if (mcuq_depthwise_word_map(g)) {
        mcuq_depthwise_map_s8(p, input, output);
        return;
    }
    /* the plane's set-up per channel costs more than a 1-pixel map (measured on the RTL:
     * MobileOne's 2x2 maps run 1.8 times as fast on planes, its 1x1 maps 0.7 times) */
    if (g->out_h * g->out_w > 1 && mcuq_depthwise_plane_rows(g)) {
        if (p->requant_mul == 2 &&
            mcuq_dw3_channels_shape(4 * mcuq_depthwise_plane_words(g),
                                    mcuq_depthwise_plane_stride(g), g->stride_h, g->stride_w,
                                    g->out_h, g->out_w))
            mcuq_depthwise3x3_chunks_s8(p, input, output, work);
        else
            mcuq_depthwise3x3_s8(p, input, output, work);
        return;
    }
    /* the fields in locals: the output stores could alias them */
    const int32_t channels = g->in_channels, zp = p->out_zero_point, out_w = g->out_w;
    const int32_t lo = p->act_min - zp, hi = p->act_max - zp;
    const int32_t *const mult = p->mult, *const shift = p->shift;
    int32_t *acc = work + mcuq_core_id() * ((channels + 1) & ~1);
    int32_t first, last, c0, c1;
    mcuq_conv2d_split(g->out_h * g->out_w, channels, &first, &last, &c0, &c1);
    for (int32_t pixel = first; pixel < last; pixel++) {
        const int32_t oy = pixel / out_w, ox = pixel % out_w;
        mcuq_depthwise_taps_s8(p, input, oy, ox, c0, c1, acc);
        int8_t *y = output + pixel * channels;
        for (int32_t c = c0; c < c1; c++) {
            const int32_t r = mcuq_requant(acc[c], mult[c], shift[c]);
            y[c] = (int8_t)(mcuq_clamp32(r, lo, hi) + zp);
        }
    }
}

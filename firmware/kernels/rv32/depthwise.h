/* The tap loop of the int8 depthwise kernels (NumPy twin: mcuq/ops/depthwise_conv2d.py),
 * shared by the plain and the coarse & fine (CFWS) kernel: for output pixel (oy, ox) and
 * the channels [c0, c1),
 *     acc[c] = bq[c] + sum_{ky, kx} Wq[ky][kx][c] xq[iy][ix][c]      (int32)
 * with a padding tap adding zp_x Wq (zp_x sum Wq is folded into bq; on a 1-pixel map the
 * export also folded the padding taps' zp_x Wq into the bias, so they are skipped: a 3x3
 * window on a 1x1 map has one tap inside). Tap by tap, C contiguous inputs meet C
 * contiguous weights. */
#ifndef MCUQ_DEPTHWISE_H
#define MCUQ_DEPTHWISE_H

#include "mcuq_conv2d.h"

static inline __attribute__((always_inline)) void
mcuq_depthwise_taps_s8(const mcuq_depthwise_conv2d_s8_t *p, const int8_t *input, int32_t oy,
                       int32_t ox, int32_t c0, int32_t c1, int32_t *acc)
{
    const mcuq_window_t *g = &p->window;
    const int32_t channels = g->in_channels;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    const int32_t one_pixel = g->out_h * g->out_w == 1;
    for (int32_t c = c0; c < c1; c++)
        acc[c] = p->bias[c];
    const int8_t *w = p->weight;
    for (int32_t ky = 0; ky < g->kernel_h; ky++) {
        const int32_t iy = iy0 + ky * g->dilation_h;
        for (int32_t kx = 0; kx < g->kernel_w; kx++, w += channels) {
            const int32_t ix = ix0 + kx * g->dilation_w;
            if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                if (one_pixel)
                    continue;
                for (int32_t c = c0; c < c1; c++)
                    acc[c] += p->in_zero_point * w[c];
                continue;
            }
            const int8_t *x = input + (iy * g->in_w + ix) * channels;
            for (int32_t c = c0; c < c1; c++)
                acc[c] += w[c] * x[c];
        }
    }
}

/* Whether a layer's input map fits in a word, a byte a pixel (4 pixels at most: a 2x2
 * map or smaller), so that the int8 kernel takes the export's map layout
 * (mcuq/ops/depthwise_conv2d.py word_map and map_arrays, the same test). */
static inline int32_t mcuq_depthwise_word_map(const mcuq_window_t *g)
{
    return g->in_h * g->in_w <= 4;
}

/* The plane of one channel that the int8 3x3 kernel lays out (depthwise_conv2d_s8.c), 0
 * rows for other kernels; mcuq/ops/depthwise_conv2d.py sizes the scratch with the same
 * formulas. A row holds the padded image row and one byte past it (the last window's
 * word reads it, and meets a zero tap), to a whole word. */
static inline int32_t mcuq_depthwise_plane_rows(const mcuq_window_t *g)
{
    if (g->kernel_h != 3 || g->kernel_w != 3 || g->dilation_h != 1 || g->dilation_w != 1)
        return 0;
    return (g->out_h - 1) * g->stride_h + 3;
}

static inline int32_t mcuq_depthwise_plane_stride(const mcuq_window_t *g)
{
    return ((g->out_w - 1) * g->stride_w + 3 + 4) & ~3;
}

/* int32 words of one plane; a core's scratch holds p->planes of them or a
 * pixel's accumulators, (channels + 1) & ~1 words, whichever is more, and the scratch
 * MCUQ_MAX_CORES of these */
static inline int32_t mcuq_depthwise_plane_words(const mcuq_window_t *g)
{
    return (mcuq_depthwise_plane_rows(g) * mcuq_depthwise_plane_stride(g) + 3) / 4;
}

#endif

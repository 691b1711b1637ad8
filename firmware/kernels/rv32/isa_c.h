/* The C forms of the primitives that move bytes (the convolutions' gathering, the
 * depthwise planes) and of the depthwise 3x3 column, for an instruction set without
 * assembly of its own for them: rv32's mcuq_isa.h, and xcv's outside an XCV build (the
 * host, QEMU, the GAP SDK). Included at the end of those headers, after mcuq_taps3_t,
 * mcuq_dot3_s8 and MCUQ_ALWAYS_INLINE. */
#ifndef MCUQ_ISA_C_H
#define MCUQ_ISA_C_H

#include <stdint.h>

#include "mcuq_fixedpoint.h"

/* words 4-byte words from src to dst (both 4-byte aligned); the empty asm keeps the
 * compiler from turning the loop into a memcpy call (see mcuq_window.h) */
MCUQ_ALWAYS_INLINE void mcuq_copy_words(uint8_t *dst, const uint8_t *src, int32_t words)
{
    const uint8_t *s = (const uint8_t *)__builtin_assume_aligned(src, 4);
    uint8_t *d = (uint8_t *)__builtin_assume_aligned(dst, 4);
    for (int32_t i = 0; i < 4 * words; i += 4) {
        uint32_t v;
        __builtin_memcpy(&v, s + i, 4);
        __asm__("" : "+r"(v));
        __builtin_memcpy(d + i, &v, 4);
    }
}

/* words 4-byte copies of value from dst on (4-byte aligned); the empty asm keeps the
 * compiler from turning the loop into a memset call */
MCUQ_ALWAYS_INLINE void mcuq_fill_words(uint8_t *dst, uint32_t value, int32_t words)
{
    uint8_t *d = (uint8_t *)__builtin_assume_aligned(dst, 4);
    for (int32_t i = 0; i < 4 * words; i += 4) {
        uint32_t v = value;
        __asm__("" : "+r"(v));
        __builtin_memcpy(d + i, &v, 4);
    }
}

/* One channel of an HWC image into its plane: for r < rows and i < cols,
 * dst[r dst_stride + i] = src[r src_stride + i step] (step: the image's channel count) */
MCUQ_ALWAYS_INLINE void mcuq_gather_plane_s8(uint8_t *dst, int32_t dst_stride, const int8_t *src,
                                            int32_t step, int32_t src_stride, int32_t rows,
                                            int32_t cols)
{
    for (int32_t r = 0; r < rows; r++, dst += dst_stride, src += src_stride)
        for (int32_t i = 0; i < cols; i++)
            dst[i] = (uint8_t)src[i * step];
}

/* 4 quads channels' images into as many planes plane_bytes apart: channel k's into
 * dst + k plane_bytes, as mcuq_gather_plane_s8 with src + k */
MCUQ_ALWAYS_INLINE void mcuq_gather_planes4_s8(uint8_t *dst, int32_t dst_stride,
                                              int32_t plane_bytes, const int8_t *src,
                                              int32_t step, int32_t src_stride, int32_t rows,
                                              int32_t cols, int32_t quads)
{
    for (int32_t k = 0; k < 4 * quads; k++)
        mcuq_gather_plane_s8(dst + k * plane_bytes, dst_stride, src + k, step, src_stride,
                             rows, cols);
}

/* The depthwise 3x3 kernel down one column of outputs of one channel
 * (depthwise_conv2d_s8.c): output i (of count) reads the window rows at
 * src + (step i + r) stride, r = 0, 1, 2 (step: the vertical stride, 1 or 2), and is
 * stored at y + i ystep:
 *     y = clamp(zp + rshift_round((bias + acc) mult, shift), -128, 127),
 *     acc = sum_r taps_r . row_r
 * (mcuq_requant_mul8: the requantization of mcuq_requant with one 32-bit product, for a
 * layer whose short multipliers the export proved keep it, the bias and the zero point,
 * scaled, in int32, and whose activation range is all of int8: requant_mul). */
MCUQ_ALWAYS_INLINE void mcuq_dw3_column_s8(const int8_t *src, int32_t stride, int32_t step,
                                          int8_t *y, int32_t ystep, int32_t count,
                                          mcuq_taps3_t w0, mcuq_taps3_t w1, mcuq_taps3_t w2,
                                          int32_t bias, int32_t mult, int32_t shift,
                                          int32_t zp)
{
    const int32_t offset = mcuq_requant_offset(bias, mult, shift, zp);
    for (int32_t i = 0; i < count; i++, src += step * stride, y += ystep) {
        int32_t acc = mcuq_dot3_s8(0, w0, src);
        acc = mcuq_dot3_s8(acc, w1, src + stride);
        acc = mcuq_dot3_s8(acc, w2, src + 2 * stride);
        *y = (int8_t)mcuq_requant_mul8(acc, mult, shift, offset);
    }
}

/* Pairs of adjacent columns of outputs (horizontal stride 1), `pairs` of them: pair p
 * holds the columns at top + 2p and top + 2p + 1, stored at ycol + 2p right and
 * ycol + (2p + 1) right (right: the output's channel count) */
MCUQ_ALWAYS_INLINE void mcuq_dw3_column_pairs_s8(const int8_t *top, int32_t stride, int32_t step,
                                                int8_t *ycol, int32_t ystep, int32_t right,
                                                int32_t pairs, int32_t count,
                                                mcuq_taps3_t w0, mcuq_taps3_t w1,
                                                mcuq_taps3_t w2, int32_t bias, int32_t mult,
                                                int32_t shift, int32_t zp)
{
    for (int32_t i = 0; i < 2 * pairs; i++, top++, ycol += right)
        mcuq_dw3_column_s8(top, stride, step, ycol, ystep, count, w0, w1, w2, bias, mult,
                           shift, zp);
}

/* `columns` single columns at vertical stride 2: column j at top + j colstep, stored at
 * ycol + j right */
MCUQ_ALWAYS_INLINE void mcuq_dw3_columns_step2_s8(const int8_t *top, int32_t stride,
                                                 int32_t colstep, int8_t *ycol, int32_t ystep,
                                                 int32_t right, int32_t columns, int32_t count,
                                                 mcuq_taps3_t w0, mcuq_taps3_t w1,
                                                 mcuq_taps3_t w2, int32_t bias, int32_t mult,
                                                 int32_t shift, int32_t zp)
{
    for (int32_t j = 0; j < columns; j++, top += colstep, ycol += right)
        mcuq_dw3_column_s8(top, stride, 2, ycol, ystep, count, w0, w1, w2, bias, mult, shift,
                           zp);
}

/* Whether the ISA has a loop over a whole chunk of channels for this shape
 * (mcuq_dw3_channels_s8). The C form has none. */
MCUQ_ALWAYS_INLINE int32_t mcuq_dw3_channels_shape(int32_t plane_bytes, int32_t stride,
                                                  int32_t sh, int32_t sw, int32_t out_h,
                                                  int32_t out_w)
{
    (void)plane_bytes, (void)stride, (void)sh, (void)sw, (void)out_h, (void)out_w;
    return 0;
}

/* n channels of a small map in one loop, their planes plane_bytes apart from top, their
 * outputs from ycol on (right: the channel count), each with its weights (a word per
 * window row), bias, multiplier and shift, for a shape mcuq_dw3_channels_shape takes, in
 * a layer whose every channel takes the one multiply (requant_mul 2). Never called in
 * the C form, whose mcuq_dw3_channels_shape takes no shape. */
MCUQ_ALWAYS_INLINE void mcuq_dw3_channels_s8(const int8_t *top, int32_t plane_bytes,
                                            int32_t stride, int32_t sh, int32_t sw,
                                            int32_t out_h, int32_t out_w, int8_t *ycol,
                                            int32_t right, int32_t n, const int8_t *weight,
                                            const int32_t *bias, const int32_t *mult,
                                            const int32_t *shift, int32_t zp)
{
    (void)top, (void)plane_bytes, (void)stride, (void)sh, (void)sw, (void)out_h, (void)out_w;
    (void)ycol, (void)right, (void)n, (void)weight, (void)bias, (void)mult, (void)shift;
    (void)zp;
}

/* n channels of maps of at most 4 pixels in one loop (depthwise_conv2d_s8.c's map
 * kernel): channel c's map bytes at x + c + k right, its outputs at y + c + o right, with
 * its tap words, biases (`outputs` of each), multiplier and shift; the caller's layer has
 * every channel's shift at most 31 (requant_mul 2: the one-multiply requantization). 1
 * when done, 0 to leave them to the caller's loop. The C form has none. */
MCUQ_ALWAYS_INLINE int32_t mcuq_dw_map_channels_s8(const int8_t *x, int8_t *y, int32_t right,
                                                  int32_t pixels, int32_t outputs, int32_t n,
                                                  const int8_t *weight, const int32_t *bias,
                                                  const int32_t *mult, const int32_t *shift,
                                                  int32_t zp)
{
    (void)x, (void)y, (void)right, (void)pixels, (void)outputs, (void)n, (void)weight;
    (void)bias, (void)mult, (void)shift, (void)zp;
    return 0;
}

/* a word at any alignment */
MCUQ_ALWAYS_INLINE uint32_t mcuq_load_word(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

MCUQ_ALWAYS_INLINE void mcuq_store_word(uint8_t *p, uint32_t v)
{
    __builtin_memcpy(p, &v, 4);
}

#endif

/* Pooling: the kernel interfaces, whatever the instruction set (NumPy twins:
 * mcuq/ops/maxpool.py, mcuq/ops/avgpool.py, mcuq/ops/global_avgpool.py; kernels:
 * firmware/kernels/<isa>/).
 * Images are HWC. */
#ifndef MCUQ_POOL_H
#define MCUQ_POOL_H

#include <stdint.h>

#include "mcuq_conv2d.h"

/* Along one axis, the taps start + t * dilation (t = 0 .. kernel - 1) inside [0, size):
 * from *first up to *end (exclusive), a dilation apart; none when *first == *end. */
static inline void mcuq_window_axis(int32_t start, int32_t kernel, int32_t dilation,
                                    int32_t size, int32_t *first, int32_t *end)
{
    const int32_t t0 = start < 0 ? (-start + dilation - 1) / dilation : 0;
    int32_t t1 = start < size ? (size - 1 - start) / dilation + 1 : 0;
    t1 = t1 > kernel ? kernel : t1;
    *first = start + t0 * dilation;
    *end = t1 > t0 ? start + t1 * dilation : *first;
}

/* The taps of output pixel `pixel`'s window that lie inside the image: rows from *y0 to
 * *y1 (exclusive) a dilation_h apart, columns from *x0 to *x1 a dilation_w apart. */
static inline void mcuq_window_inside(const mcuq_window_t *g, int32_t pixel, int32_t *y0,
                                      int32_t *y1, int32_t *x0, int32_t *x1)
{
    const int32_t oy = pixel / g->out_w, ox = pixel % g->out_w;
    mcuq_window_axis(oy * g->stride_h - g->pad_top, g->kernel_h, g->dilation_h, g->in_h, y0, y1);
    mcuq_window_axis(ox * g->stride_w - g->pad_left, g->kernel_w, g->dilation_w, g->in_w, x0, x1);
}

/* How many taps mcuq_window_inside's rows and columns hold */
static inline int32_t mcuq_window_taps(const mcuq_window_t *g, int32_t y0, int32_t y1,
                                       int32_t x0, int32_t x1)
{
    return (y1 - y0) / g->dilation_h * ((x1 - x0) / g->dilation_w);
}

/* Max over each window's taps inside the image; int8 keeps the input's scale and zero
 * point. */
void mcuq_maxpool_s8(const mcuq_window_t *window, const int8_t *input, int8_t *output);
void mcuq_maxpool_f16(const mcuq_window_t *window, const _Float16 *input, _Float16 *output);

typedef struct {
    mcuq_window_t window;
    int32_t count_include_pad;  /* 1: divide by kernel_h * kernel_w, else by the taps inside */
    int32_t in_zero_point;
    const int32_t *mult;        /* [kernel_h * kernel_w]: M[d - 1] ~ s_x / (d s_y) */
    const int32_t *shift;
    int32_t out_zero_point;
} mcuq_avgpool_s8_t;

/* The mean over each window's taps; d is the taps inside the image or the kernel size. */
void mcuq_avgpool_s8(const mcuq_avgpool_s8_t *p, const int8_t *input, int8_t *output);
void mcuq_avgpool_f16(const mcuq_window_t *window, int32_t count_include_pad,
                      const _Float16 *input, _Float16 *output);

typedef struct {
    int32_t channels;
    int32_t pixels;          /* H * W */
    int32_t in_zero_point;
    int32_t mult;            /* requantization of the sum: M ~ s_x / (pixels s_y) */
    int32_t shift;
    int32_t out_zero_point;
} mcuq_global_avgpool_s8_t;

/* The mean of every channel over the image -> C values. */
void mcuq_global_avgpool_s8(const mcuq_global_avgpool_s8_t *p, const int8_t *input,
                            int8_t *output);
void mcuq_global_avgpool_f16(int32_t channels, int32_t pixels, const _Float16 *input,
                             _Float16 *output);

#endif

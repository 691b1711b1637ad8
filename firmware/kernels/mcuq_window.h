/* Gathering a window of an HWC image (NumPy twin: mcuq/ops/_conv.py), the same on every
 * instruction set: the im2col column of one output pixel, taps in (ky, kx, c) order.
 * Works on bytes, so one function serves int8 (padding = the input zero point) and fp16
 * (padding = +0, all bytes 0). A window row that lies inside the image is one copy of
 * kernel_w * C values (the taps of a row are adjacent in HWC, without dilation); only
 * border pixels and dilated windows go tap by tap. */
#ifndef MCUQ_WINDOW_H
#define MCUQ_WINDOW_H

#include <stdint.h>
#include <string.h>

#include "mcuq_conv2d.h"

/* always inlined: a kernel compiled in two forms (with and without a side list of
 * outliers) calls it twice, and a call per pixel costs the small convolutions cycles */
static inline __attribute__((always_inline)) const uint8_t *
mcuq_im2col(const mcuq_window_t *g, const uint8_t *input, int32_t value_bytes, int32_t oy,
            int32_t ox, uint8_t pad, uint8_t *column)
{
    const int32_t pixel = g->in_channels * value_bytes, row = g->kernel_w * pixel;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    uint8_t *c = column;
    for (int32_t ky = 0; ky < g->kernel_h; ky++, c += row) {
        const int32_t iy = iy0 + ky * g->dilation_h;
        if (iy < 0 || iy >= g->in_h) {
            memset(c, pad, (size_t)row);
            continue;
        }
        const uint8_t *line = input + iy * g->in_w * pixel;
        if (g->dilation_w == 1 && ix0 >= 0 && ix0 + g->kernel_w <= g->in_w) {
            memcpy(c, line + ix0 * pixel, (size_t)row);
            continue;
        }
        for (int32_t kx = 0; kx < g->kernel_w; kx++) {
            const int32_t ix = ix0 + kx * g->dilation_w;
            if (ix < 0 || ix >= g->in_w)
                memset(c + kx * pixel, pad, (size_t)pixel);
            else
                memcpy(c + kx * pixel, line + ix * pixel, (size_t)pixel);
        }
    }
    return column;
}

#endif

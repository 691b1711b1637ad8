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
#include "mcuq_isa.h"

/* The copies and fills of the gathering, written out rather than left to memcpy and
 * memset: a C library for small cores may copy byte by byte in a loop of six
 * instructions (picolibc's rv32 memcpy does), and a call costs more than a stem's few
 * bytes. Whole words when both ends and the length allow (the channels of most layers
 * are a multiple of 4: mcuq_copy_words of the instruction set), else bytes. The empty asm passes each value through a register
 * the compiler cannot see into, so that it does not turn the loop back into a call. */
static inline __attribute__((always_inline)) void mcuq_copy_bytes(uint8_t *dst, const uint8_t *src,
                                                                  int32_t n)
{
    if (((uintptr_t)dst | (uintptr_t)src | (uint32_t)n) & 3) {
        for (int32_t i = 0; i < n; i++) {
            uint8_t v = src[i];
            __asm__("" : "+r"(v));
            dst[i] = v;
        }
        return;
    }
    mcuq_copy_words(dst, src, n >> 2);
}

static inline __attribute__((always_inline)) void mcuq_fill_bytes(uint8_t *dst, uint8_t value,
                                                                  int32_t n)
{
    if (((uintptr_t)dst | (uint32_t)n) & 3) {
        for (int32_t i = 0; i < n; i++) {
            uint8_t v = value;
            __asm__("" : "+r"(v));
            dst[i] = v;
        }
        return;
    }
    uint8_t *d = (uint8_t *)__builtin_assume_aligned(dst, 4);
    for (int32_t i = 0; i < n; i += 4) {
        uint32_t v = value * 0x01010101u;
        __asm__("" : "+r"(v));
        __builtin_memcpy(d + i, &v, 4);
    }
}

/* always inlined: a kernel compiled in two forms (with and without a side list of
 * outliers) calls it twice, and a call per pixel costs the small convolutions cycles.
 * The window's fields are read into locals first: every byte the gathering stores could
 * alias them, and reloading them after each store costs more than the copy. */
static inline __attribute__((always_inline)) const uint8_t *
mcuq_im2col(const mcuq_window_t *g, const uint8_t *input, int32_t value_bytes, int32_t oy,
            int32_t ox, uint8_t pad, uint8_t *column)
{
    const int32_t pixel = g->in_channels * value_bytes, kernel_h = g->kernel_h;
    const int32_t kernel_w = g->kernel_w, row = kernel_w * pixel;
    const int32_t in_h = g->in_h, in_w = g->in_w, dilation_h = g->dilation_h;
    const int32_t dilation_w = g->dilation_w, line_bytes = in_w * pixel;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    const int32_t inside = dilation_w == 1 && ix0 >= 0 && ix0 + kernel_w <= in_w;
    uint8_t *c = column;
    for (int32_t ky = 0; ky < kernel_h; ky++, c += row) {
        const int32_t iy = iy0 + ky * dilation_h;
        if (iy < 0 || iy >= in_h) {
            mcuq_fill_bytes(c, pad, row);
            continue;
        }
        const uint8_t *line = input + iy * line_bytes;
        if (inside) {
            mcuq_copy_bytes(c, line + ix0 * pixel, row);
            continue;
        }
        for (int32_t kx = 0; kx < kernel_w; kx++) {
            const int32_t ix = ix0 + kx * dilation_w;
            if (ix < 0 || ix >= in_w)
                mcuq_fill_bytes(c + kx * pixel, pad, pixel);
            else
                mcuq_copy_bytes(c + kx * pixel, line + ix * pixel, pixel);
        }
    }
    return column;
}

#endif

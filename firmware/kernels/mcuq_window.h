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
    mcuq_fill_words(dst, value * 0x01010101u, n >> 2);
}

/* n bytes (n < 16) from src to dst in whole words at any alignment: it reads up to 3
 * bytes past src + n and writes up to 3 past dst + n, which the caller allows (the next
 * window row of the column, or the column's slack). A stem's window row of 3 to 12 bytes
 * in one to three loads and stores. */
static inline __attribute__((always_inline)) void mcuq_copy_short(uint8_t *dst, const uint8_t *src,
                                                                  int32_t n)
{
    for (int32_t i = 0; i < n; i += 4)
        mcuq_store_word(dst + i, mcuq_load_word(src + i));
}

/* always inlined: a kernel compiled in two forms (with and without a side list of
 * outliers) calls it twice, and a call per pixel costs the small convolutions cycles.
 * The window's fields are read into locals first: every byte the gathering stores could
 * alias them, and reloading them after each store costs more than the copy. */
static inline __attribute__((always_inline)) const uint8_t *
mcuq_im2col_rows(const mcuq_window_t *g, const uint8_t *input, int32_t value_bytes, int32_t oy,
                 int32_t ox, uint8_t pad, uint8_t *column, const int32_t slack,
                 int32_t ky_first, int32_t ky_end)
{
    const int32_t pixel = g->in_channels * value_bytes;
    const int32_t kernel_w = g->kernel_w, row = kernel_w * pixel;
    const int32_t in_h = g->in_h, in_w = g->in_w, dilation_h = g->dilation_h;
    const int32_t dilation_w = g->dilation_w, line_bytes = in_w * pixel;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    const int32_t inside = dilation_w == 1 && ix0 >= 0 && ix0 + kernel_w <= in_w;
    /* with slack (3 bytes past the column), a short inside row goes as whole words, when
     * the 3 bytes read past it are still in the input */
    const int32_t short_rows = slack && row < 16, input_bytes = in_h * line_bytes;
    uint8_t *c = column + ky_first * row;
    for (int32_t ky = ky_first; ky < ky_end; ky++, c += row) {
        const int32_t iy = iy0 + ky * dilation_h;
        if (iy < 0 || iy >= in_h) {
            mcuq_fill_bytes(c, pad, row);
            continue;
        }
        const uint8_t *line = input + iy * line_bytes;
        if (inside) {
            const uint8_t *from = line + ix0 * pixel;
            if (short_rows && from + row + 3 <= input + input_bytes)
                mcuq_copy_short(c, from, row);
            else
                mcuq_copy_bytes(c, from, row);
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

/* The output pixels whose whole window lies inside the image (no dilation across a row):
 * their columns are kernel_h copies of one window row each, from one pointer. Worked out
 * once per layer, so that a gathering of such a pixel (most pixels of a layer) is four
 * comparisons, a multiply-add and the copies. */
typedef struct {
    int32_t oy_lo, oy_hi, ox_lo, ox_hi;  /* inside: oy_lo <= oy < oy_hi, ox_lo <= ox < ox_hi */
    int32_t line_step, pixel_step;       /* input bytes from one output row, pixel to the next */
    int32_t origin;                      /* input byte of output pixel (0, 0)'s top-left tap */
    int32_t kernel_h, row, row_step;     /* window rows; bytes of one; bytes between two */
    int32_t input_bytes;
} mcuq_inside_t;

/* a / b for a >= 0 and a stride b: strides 1 and 2 without a division, which takes a
 * small core tens of cycles, and every core of a layer works this out */
static inline __attribute__((always_inline)) int32_t mcuq_div_small(int32_t a, int32_t b)
{
    return b == 1 ? a : (b == 2 ? a >> 1 : a / b);
}

static inline __attribute__((always_inline)) void
mcuq_inside_of(const mcuq_window_t *g, int32_t value_bytes, mcuq_inside_t *w)
{
    const int32_t pixel = g->in_channels * value_bytes, line = g->in_w * pixel;
    const int32_t span_h = (g->kernel_h - 1) * g->dilation_h + 1;
    /* oy sh - pad_top >= 0 and oy sh - pad_top + span_h <= in_h, the same across */
    w->oy_lo = mcuq_div_small(g->pad_top + g->stride_h - 1, g->stride_h);
    w->oy_hi = g->in_h + g->pad_top - span_h < 0 ? 0
        : mcuq_div_small(g->in_h + g->pad_top - span_h, g->stride_h) + 1;
    w->ox_lo = mcuq_div_small(g->pad_left + g->stride_w - 1, g->stride_w);
    w->ox_hi = g->dilation_w != 1 || g->in_w + g->pad_left - g->kernel_w < 0 ? 0
        : mcuq_div_small(g->in_w + g->pad_left - g->kernel_w, g->stride_w) + 1;
    w->line_step = g->stride_h * line;
    w->pixel_step = g->stride_w * pixel;
    w->origin = -g->pad_top * line - g->pad_left * pixel;
    w->kernel_h = g->kernel_h;
    w->row = g->kernel_w * pixel;
    w->row_step = g->dilation_h * line;
    w->input_bytes = g->in_h * line;
}

/* a border pixel's column, with slack: not inlined, so that the few border pixels keep
 * their general gathering out of the registers of a kernel's loop */
static __attribute__((noinline, unused)) const uint8_t *
mcuq_im2col_border(const mcuq_window_t *g, const uint8_t *input, int32_t oy, int32_t ox,
                   uint8_t pad, uint8_t *column)
{
    return mcuq_im2col_rows(g, input, 1, oy, ox, pad, column, 1, 0, g->kernel_h);
}

/* a pixel whose window is inside the image across but not down (the top and bottom
 * rows of a map): each window row is padding or a whole row of the image; not inlined,
 * as mcuq_im2col_border */
static __attribute__((noinline, unused)) const uint8_t *
mcuq_im2col_rows_out(const mcuq_window_t *g, const mcuq_inside_t *w, const uint8_t *input,
                     int32_t oy, int32_t ox, uint8_t pad, uint8_t *column)
{
    const int32_t row = w->row, kernel_h = w->kernel_h, in_h = g->in_h;
    const int32_t line = g->in_w * g->in_channels, iy0 = oy * g->stride_h - g->pad_top;
    const uint8_t *base = input + (ox * g->stride_w - g->pad_left) * g->in_channels;
    const uint8_t *end = input + w->input_bytes;
    uint8_t *c = column;
    for (int32_t ky = 0; ky < kernel_h; ky++, c += row) {
        const int32_t iy = iy0 + ky * g->dilation_h;
        if (iy < 0 || iy >= in_h) {
            mcuq_fill_bytes(c, pad, row);
            continue;
        }
        const uint8_t *src = base + iy * line;
        if (row < 16 && src + row + 3 <= end)
            mcuq_copy_short(c, src, row);
        else
            mcuq_copy_bytes(c, src, row);
    }
    return column;
}

/* The column of output pixel (oy, ox) with slack (MCUQ_COLUMN_SPAN), for a kernel that
 * has worked out mcuq_inside_of: an inside pixel's rows straight from one pointer, the
 * others' through mcuq_im2col_rows_out or mcuq_im2col_border */
static inline __attribute__((always_inline)) const uint8_t *
mcuq_im2col_inside(const mcuq_window_t *g, const mcuq_inside_t *w, const uint8_t *input,
                   int32_t oy, int32_t ox, uint8_t pad, uint8_t *column)
{
    if (ox < w->ox_lo || ox >= w->ox_hi)
        return mcuq_im2col_border(g, input, oy, ox, pad, column);
    if (oy < w->oy_lo || oy >= w->oy_hi)
        return mcuq_im2col_rows_out(g, w, input, oy, ox, pad, column);
    const uint8_t *src = input + w->origin + oy * w->line_step + ox * w->pixel_step;
    const int32_t row = w->row, step = w->row_step, kernel_h = w->kernel_h;
    uint8_t *c = column;
    if (row < 16 && src + (kernel_h - 1) * step + row + 3 <= input + w->input_bytes)
        for (int32_t ky = 0; ky < kernel_h; ky++, c += row, src += step)
            mcuq_copy_short(c, src, row);
    else
        for (int32_t ky = 0; ky < kernel_h; ky++, c += row, src += step)
            mcuq_copy_bytes(c, src, row);
    return column;
}

/* the column of output pixel (oy, ox), exactly its kernel_h kernel_w C values */
static inline __attribute__((always_inline)) const uint8_t *
mcuq_im2col(const mcuq_window_t *g, const uint8_t *input, int32_t value_bytes, int32_t oy,
            int32_t ox, uint8_t pad, uint8_t *column)
{
    return mcuq_im2col_rows(g, input, value_bytes, oy, ox, pad, column, 0, 0, g->kernel_h);
}

/* The taps of mcuq_im2col_table from `tap` to `end`, the first at col with `left` taps to
 * the end of its pixel's column: in whole words (`whole`, a constant at each call, so
 * each form is compiled without a test per tap) or bytes. */
static inline __attribute__((always_inline)) void
mcuq_im2col_table_taps(const int32_t *tap, const int32_t *end, int32_t left, int32_t taps,
                       int32_t pixel, int32_t gap, const uint8_t *input, uint8_t pad,
                       uint8_t *col, const int32_t whole)
{
    for (; tap < end; tap++) {
        const int32_t at = *tap;
        if (whole && at >= 0)
            mcuq_copy_words(col, input + at, pixel >> 2);
        else if (whole)
            mcuq_fill_words(col, pad * 0x01010101u, pixel >> 2);
        else if (at >= 0)
            mcuq_copy_bytes(col, input + at, pixel);
        else
            mcuq_fill_bytes(col, pad, pixel);
        col += pixel;
        if (--left == 0) {
            col += gap;
            left = taps;
        }
    }
}

/* Taps [first, last) of the int8 columns of every output pixel, in order, from the
 * layer's tap table (mcuq_conv2d_s8_t.taps: per pixel and window tap, the input byte of
 * the tap's C values, or -1 for padding): pixel p's column at column + p span, a tap's C
 * bytes a copy, or zp_x for padding. Cores that gather all the columns together take a
 * contiguous share of the taps each (a share of window rows would leave some cores twice
 * the work of others on a 2x2 map). The bytes of a column past its k values are not
 * written: they meet zero weights (xcv pads each row to whole words) or are not read.
 * Not inlined: in a kernel's registers its loop would spill. */
static __attribute__((noinline, unused)) void
mcuq_im2col_table(const int32_t *table, int32_t taps, int32_t pixel, const uint8_t *input,
                  uint8_t pad, uint8_t *column, int32_t span, int32_t first, int32_t last)
{
    int32_t j = first;
    uint8_t *col = column;
    for (; j >= taps; j -= taps)  /* a share starts within the first 2 MCUQ_MAX_CORES pixels */
        col += span;
    col += j * pixel;
    const int32_t gap = span - taps * pixel;
    /* taps of whole words at word addresses (most layers): no alignment test per tap */
    if (!(((uintptr_t)input | (uintptr_t)column | (uint32_t)pixel | (uint32_t)span) & 3))
        mcuq_im2col_table_taps(table + first, table + last, taps - j, taps, pixel, gap, input,
                               pad, col, 1);
    else
        mcuq_im2col_table_taps(table + first, table + last, taps - j, taps, pixel, gap, input,
                               pad, col, 0);
}

/* the bytes of a column of k values with 3 bytes of slack past its end, to whole words:
 * short window rows are copied into it in whole words (mcuq_im2col_inside) */
#define MCUQ_COLUMN_SPAN(k) (((k) + 7) & ~3)

#endif

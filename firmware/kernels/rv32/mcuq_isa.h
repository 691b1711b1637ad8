/* Inner-loop primitives of the generic RV32 kernels (RV32IMAFC + Zfh, no SIMD): the dot
 * products every matrix-vector kernel is built on. Each instruction-set folder of
 * firmware/kernels/ has its own mcuq_isa.h with the primitives its kernels use, and
 * defines MCUQ_ISA_<NAME>, which the generated model checks against the layout its
 * weights were exported in.
 *
 * Weight layout read by these primitives (mcuq/layouts.py, "rv32"): G rows
 * interleaved, w[k * G + g] is row g's weight k (G = 3 or 4: the gates of a recurrent
 * unit, or a group of four Linear channels). */
#ifndef MCUQ_ISA_H
#define MCUQ_ISA_H

#include <stdint.h>

#include "dot_f16.h"
#include "mcuq_fixedpoint.h"

#define MCUQ_ISA_RV32 1

#define MCUQ_ALWAYS_INLINE static inline __attribute__((always_inline))

/* int8 weights stored per row of k inputs (the "rv32" layouts of mcuq/layouts.py) */
#define MCUQ_ROW_S8(k) (k)

/* G dot products over interleaved rows: acc[g] += sum_k w[k * G + g] * x[k], G = 3 or 4.
 * Each x[k] is loaded once for G rows and the weights are read at constant offsets
 * from one pointer: on a scalar core without SIMD every int8 weight costs a load, a
 * multiply and an add, so 1/3 MAC per instruction is the ceiling and the x loads and
 * loop control are what is left to amortise. Unrolled by four (per 4 k and G = 4:
 * 4 + 16 loads, 16 multiplies, 16 adds, 3 instructions of loop control). Integer sums,
 * so the result is that of G separate dot products in any order. */
#define MCUQ_DOT_INTERLEAVED(NAME, G)                                                   \
    static inline void NAME(const int8_t *restrict w, const int8_t *restrict x,         \
                            int32_t n, int32_t acc[G])                                   \
    {                                                                                    \
        int32_t a[G] = {0};                                                              \
        const int8_t *const end4 = x + (n & ~3), *const end = x + n;                     \
        for (; x != end4; x += 4, w += 4 * (G)) {                                        \
            const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];                    \
            for (int32_t g = 0; g < (G); g++)                                            \
                a[g] += w[g] * x0 + w[(G) + g] * x1 + w[2 * (G) + g] * x2                \
                        + w[3 * (G) + g] * x3;                                           \
        }                                                                                \
        for (; x != end; x++, w += (G))                                                  \
            for (int32_t g = 0; g < (G); g++)                                            \
                a[g] += w[g] * x[0];                                                     \
        for (int32_t g = 0; g < (G); g++)                                                \
            acc[g] += a[g];                                                              \
    }
MCUQ_DOT_INTERLEAVED(mcuq_dot3i_s8, 3)
MCUQ_DOT_INTERLEAVED(mcuq_dot4i_s8, 4)

/* The same for two blocks of G interleaved rows at once (two recurrent units):
 * acc0[g] += sum_k w0[k * G + g] x[k], acc1[g] += sum_k w1[k * G + g] x[k].
 * One x load now feeds 2G rows: per 4 k and G = 4, 103 instructions for 32 MACs. */
#define MCUQ_DOT_INTERLEAVED_PAIR(NAME, G)                                              \
    static inline void NAME(const int8_t *restrict w0, const int8_t *restrict w1,       \
                            const int8_t *restrict x, int32_t n, int32_t acc0[G],        \
                            int32_t acc1[G])                                             \
    {                                                                                    \
        int32_t a0[G] = {0}, a1[G] = {0};                                                \
        const int8_t *const end4 = x + (n & ~3), *const end = x + n;                     \
        for (; x != end4; x += 4, w0 += 4 * (G), w1 += 4 * (G)) {                        \
            const int32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];                    \
            for (int32_t g = 0; g < (G); g++) {                                          \
                a0[g] += w0[g] * x0 + w0[(G) + g] * x1 + w0[2 * (G) + g] * x2            \
                         + w0[3 * (G) + g] * x3;                                         \
                a1[g] += w1[g] * x0 + w1[(G) + g] * x1 + w1[2 * (G) + g] * x2            \
                         + w1[3 * (G) + g] * x3;                                         \
            }                                                                            \
        }                                                                                \
        for (; x != end; x++, w0 += (G), w1 += (G))                                      \
            for (int32_t g = 0; g < (G); g++) {                                          \
                a0[g] += w0[g] * x[0];                                                   \
                a1[g] += w1[g] * x[0];                                                   \
            }                                                                            \
        for (int32_t g = 0; g < (G); g++) {                                              \
            acc0[g] += a0[g];                                                            \
            acc1[g] += a1[g];                                                            \
        }                                                                                \
    }
MCUQ_DOT_INTERLEAVED_PAIR(mcuq_dot3i2_s8, 3)
MCUQ_DOT_INTERLEAVED_PAIR(mcuq_dot4i2_s8, 4)

/* One row of a block of G interleaved rows: sum_k w[k * G + row] x[k] (the GRU's n row,
 * which it needs apart from the others in its reset-first form). */
static inline int32_t mcuq_dot_row_s8(const int8_t *restrict w, int32_t G, int32_t row,
                                      const int8_t *restrict x, int32_t n)
{
    int32_t acc = 0;
    w += row;
    for (int32_t k = 0; k < n; k++)
        acc += w[G * k] * x[k];
    return acc;
}

/* Two input vectors (two output pixels' columns) through one block of 4 interleaved rows:
 * acc0[g] += sum_k w[k * 4 + g] x0[k], acc1[g] += sum_k w[k * 4 + g] x1[k]. Each weight
 * load feeds both pixels: per k, 2 + 4 loads, 8 multiplies and 8 adds for 8 MACs, where
 * two blocks of one vector take 1 + 8 loads and 16 operations. */
static inline void mcuq_dot4i_2x_s8(const int8_t *restrict w, const int8_t *restrict x0,
                                    const int8_t *restrict x1, int32_t n, int32_t acc0[4],
                                    int32_t acc1[4])
{
    int32_t a[4] = {0}, b[4] = {0};
    for (int32_t k = 0; k < n; k++, w += 4) {
        const int32_t xa = x0[k], xb = x1[k];
        for (int32_t g = 0; g < 4; g++) {
            a[g] += w[g] * xa;
            b[g] += w[g] * xb;
        }
    }
    for (int32_t g = 0; g < 4; g++) {
        acc0[g] += a[g];
        acc1[g] += b[g];
    }
}

/* two input vectors through two blocks of 4 interleaved rows: acc0/acc1 block w0 with
 * x0/x1, acc2/acc3 block w1. Per k, 2 + 8 loads, 16 multiplies and 16 adds for 16 MACs. */
static inline void mcuq_dot4i2_2x_s8(const int8_t *restrict w0, const int8_t *restrict w1,
                                     const int8_t *restrict x0, const int8_t *restrict x1,
                                     int32_t n, int32_t acc0[4], int32_t acc1[4],
                                     int32_t acc2[4], int32_t acc3[4])
{
    int32_t a[4] = {0}, b[4] = {0}, c[4] = {0}, d[4] = {0};
    for (int32_t k = 0; k < n; k++, w0 += 4, w1 += 4) {
        const int32_t xa = x0[k], xb = x1[k];
        for (int32_t g = 0; g < 4; g++) {
            a[g] += w0[g] * xa;
            b[g] += w0[g] * xb;
            c[g] += w1[g] * xa;
            d[g] += w1[g] * xb;
        }
    }
    for (int32_t g = 0; g < 4; g++) {
        acc0[g] += a[g];
        acc1[g] += b[g];
        acc2[g] += c[g];
        acc3[g] += d[g];
    }
}

/* The three taps of a 3x3 window row, for the int8 depthwise kernel: on a scalar core,
 * three weights in registers, three byte loads and three multiply-adds per window row. */
typedef struct {
    int32_t t0, t1, t2;
} mcuq_taps3_t;

/* taps w[0], w[stride], w[2 stride] */
static inline mcuq_taps3_t mcuq_taps3_s8(const int8_t *w, int32_t stride)
{
    const mcuq_taps3_t t = {w[0], w[stride], w[2 * stride]};
    return t;
}

/* a window row's taps as the plane kernel's layout holds them (mcuq/layouts.py
 * taps_rows: three bytes and a zero) */
static inline mcuq_taps3_t mcuq_taps3_row_s8(const int8_t *w)
{
    return mcuq_taps3_s8(w, 1);
}

/* acc + the taps' products with x[0], x[1], x[2] */
static inline int32_t mcuq_dot3_s8(int32_t acc, mcuq_taps3_t w, const int8_t *x)
{
    return acc + w.t0 * x[0] + w.t1 * x[1] + w.t2 * x[2];
}

/* the byte-moving and depthwise-column primitives, in C */
#include "isa_c.h"

#endif

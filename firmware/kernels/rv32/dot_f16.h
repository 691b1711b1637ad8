/* fp16 dot products over interleaved rows, shared by every instruction set's kernels
 * (the fp16 weights keep the rv32 layout: w[k * G + g] is row g's weight k). */
#ifndef MCUQ_DOT_F16_H
#define MCUQ_DOT_F16_H

#include <stdint.h>

#include "mcuq_fp16.h"

/* fp16 weights stored per row of k inputs */
#define MCUQ_ROW_F16(k) (k)

/* G fp16 dot products over interleaved rows, G = 3 or 4:
 *   for k in order: acc[g] = fp16(acc[g] + fp16(w[k * G + g] x[k]))
 * acc[g] comes in holding the bias. Each row still sums in k order, one rounding per
 * product and per sum (the simulator's order); interleaving only lets one load of
 * x[k] feed G rows and keeps the weights at constant offsets from one pointer.
 * Unrolled by four; the rows are independent, so the core can overlap their latencies. */
#define MCUQ_DOT_F16_INTERLEAVED(NAME, G)                                               \
    static inline void NAME(const _Float16 *restrict w, const _Float16 *restrict x,     \
                            int32_t n, _Float16 acc[G])                                  \
    {                                                                                    \
        _Float16 a[G];                                                                   \
        for (int32_t g = 0; g < (G); g++)                                                \
            a[g] = acc[g];                                                               \
        const _Float16 *const end4 = x + (n & ~3), *const end = x + n;                  \
        for (; x != end4; x += 4, w += 4 * (G)) {                                        \
            const _Float16 x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];                   \
            for (int32_t g = 0; g < (G); g++) {                                          \
                const _Float16 p0 = w[g] * x0;                                           \
                a[g] = a[g] + p0;                                                        \
                const _Float16 p1 = w[(G) + g] * x1;                                     \
                a[g] = a[g] + p1;                                                        \
                const _Float16 p2 = w[2 * (G) + g] * x2;                                 \
                a[g] = a[g] + p2;                                                        \
                const _Float16 p3 = w[3 * (G) + g] * x3;                                 \
                a[g] = a[g] + p3;                                                        \
            }                                                                            \
        }                                                                                \
        for (; x != end; x++, w += (G))                                                  \
            for (int32_t g = 0; g < (G); g++) {                                          \
                const _Float16 product = w[g] * x[0];                                    \
                a[g] = a[g] + product;                                                   \
            }                                                                            \
        for (int32_t g = 0; g < (G); g++)                                                \
            acc[g] = a[g];                                                               \
    }
MCUQ_DOT_F16_INTERLEAVED(mcuq_dot3i_f16, 3)
MCUQ_DOT_F16_INTERLEAVED(mcuq_dot4i_f16, 4)

/* The same for two blocks of G interleaved rows at once (acc0 from w0, acc1 from w1):
 * one load of x[k] feeds 2G rows. Unrolled by two. */
#define MCUQ_DOT_F16_INTERLEAVED_PAIR(NAME, G)                                          \
    static inline void NAME(const _Float16 *restrict w0, const _Float16 *restrict w1,   \
                            const _Float16 *restrict x, int32_t n, _Float16 acc0[G],     \
                            _Float16 acc1[G])                                            \
    {                                                                                    \
        _Float16 a0[G], a1[G];                                                           \
        for (int32_t g = 0; g < (G); g++) {                                              \
            a0[g] = acc0[g];                                                             \
            a1[g] = acc1[g];                                                             \
        }                                                                                \
        const _Float16 *const end2 = x + (n & ~1), *const end = x + n;                  \
        for (; x != end2; x += 2, w0 += 2 * (G), w1 += 2 * (G)) {                        \
            const _Float16 x0 = x[0], x1 = x[1];                                         \
            for (int32_t g = 0; g < (G); g++) {                                          \
                const _Float16 p0 = w0[g] * x0;                                          \
                a0[g] = a0[g] + p0;                                                      \
                const _Float16 q0 = w1[g] * x0;                                          \
                a1[g] = a1[g] + q0;                                                      \
                const _Float16 p1 = w0[(G) + g] * x1;                                    \
                a0[g] = a0[g] + p1;                                                      \
                const _Float16 q1 = w1[(G) + g] * x1;                                    \
                a1[g] = a1[g] + q1;                                                      \
            }                                                                            \
        }                                                                                \
        if (x != end)                                                                    \
            for (int32_t g = 0; g < (G); g++) {                                          \
                const _Float16 p0 = w0[g] * x[0];                                        \
                a0[g] = a0[g] + p0;                                                      \
                const _Float16 q0 = w1[g] * x[0];                                        \
                a1[g] = a1[g] + q0;                                                      \
            }                                                                            \
        for (int32_t g = 0; g < (G); g++) {                                              \
            acc0[g] = a0[g];                                                             \
            acc1[g] = a1[g];                                                             \
        }                                                                                \
    }
MCUQ_DOT_F16_INTERLEAVED_PAIR(mcuq_dot3i2_f16, 3)
MCUQ_DOT_F16_INTERLEAVED_PAIR(mcuq_dot4i2_f16, 4)

#endif

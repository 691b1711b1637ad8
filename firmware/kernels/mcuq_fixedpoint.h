/* Fixed-point primitives of every int8 kernel. The NumPy twin is mcuq/fixedpoint.py;
 * the two must stay identical in behaviour (tests compare them with ==).
 *
 * Rounding rule (one, everywhere): add half, shift right arithmetically, i.e. round
 * half toward +infinity. Right shifts of negative values are arithmetic on every
 * compiler mcuq supports (gcc, clang); left shifts of negative values are written as
 * multiplications, which C defines.
 */
#ifndef MCUQ_FIXEDPOINT_H
#define MCUQ_FIXEDPOINT_H

#include <stdint.h>

#define MCUQ_Q_GATE 12 /* gate pre-activations: Q12 in int32 */
#define MCUQ_Q_UNIT 15 /* sigmoid/tanh outputs: Q15 */
#define MCUQ_SIGMOID_SHIFT 8 /* table grid 2^(8-12) = 1/16 on [-8, 8] */
#define MCUQ_TANH_SHIFT 7    /* table grid 2^(7-12) = 1/32 on [-4, 4] */

extern const int16_t mcuq_sigmoid_q15[257];
extern const int16_t mcuq_tanh_q15[257];

static inline int32_t mcuq_clamp32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static inline int32_t mcuq_sat32(int64_t x)
{
    return x < INT32_MIN ? INT32_MIN : (x > INT32_MAX ? INT32_MAX : (int32_t)x);
}

/* x / 2^n rounded half up, for |x| + 2^(n-1) < 2^31 (callers keep to that) */
static inline int32_t mcuq_rshift_round(int32_t x, int32_t n)
{
    return (x + ((1 << n) >> 1)) >> n;
}

static inline int64_t mcuq_rshift_round64(int64_t x, int32_t n)
{
    return (x + (((int64_t)1 << n) >> 1)) >> n;
}

/* acc * mult * 2^-shift, mult in [2^30, 2^31), shift in [1, 62]; saturated to int32 */
static inline int32_t mcuq_requant(int32_t acc, int32_t mult, int32_t shift)
{
    return mcuq_sat32(mcuq_rshift_round64((int64_t)acc * mult, shift));
}

/* f(x) in Q15 for x in Q12 from a 257-sample table with grid 2^(shift-12):
 *   x clamped to [-2^(shift+7), 2^(shift+7) - 1]
 *   i = (x >> shift) + 128, frac = x & (2^shift - 1)
 *   y = T[i] + rshift_round((T[i+1] - T[i]) * frac, shift)          */
static inline int32_t mcuq_lut_q15(const int16_t *table, int32_t shift, int32_t x)
{
    const int32_t limit = 1 << (shift + 7);
    x = mcuq_clamp32(x, -limit, limit - 1);
    const int32_t i = (x >> shift) + 128;
    const int32_t frac = x & ((1 << shift) - 1);
    const int32_t t0 = table[i];
    return t0 + mcuq_rshift_round((table[i + 1] - t0) * frac, shift);
}

static inline int32_t mcuq_sigmoid_q15_of(int32_t x_q12)
{
    return mcuq_lut_q15(mcuq_sigmoid_q15, MCUQ_SIGMOID_SHIFT, x_q12);
}

static inline int32_t mcuq_tanh_q15_of(int32_t x_q12)
{
    return mcuq_lut_q15(mcuq_tanh_q15, MCUQ_TANH_SHIFT, x_q12);
}

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

#endif

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

/* acc * mult * 2^-shift, mult in [2^30, 2^31), shift in [1, 62]; saturated to int32.
 *
 * The same value as sat32(rshift_round64(acc * mult, shift)), without 64-bit shifts on a
 * 32-bit core (a generic one costs about 40 instructions there). With p = acc * mult
 * and t = floor(p / 2^(shift-1)): rshift_round(p, shift) = floor((t + 1) / 2)
 * = (t >> 1) + (t & 1). For shift >= 32, |p| < 2^62 makes |t| < 2^31 and the result
 * fits in int32 (no saturation), and t comes from the product's high word: hi >> (shift
 * - 33), or for shift = 32, hi * 2 plus the low word's top bit. Smaller shifts (a
 * multiplier of 1/2 or more) take the 64-bit path. */
static inline int32_t mcuq_requant(int32_t acc, int32_t mult, int32_t shift)
{
    const int64_t p = (int64_t)acc * mult;
    if (shift >= 32) {
        const int32_t hi = (int32_t)(p >> 32);
        const int32_t t = shift == 32 ? hi * 2 + (int32_t)((uint32_t)p >> 31) : hi >> (shift - 33);
        return (t >> 1) + (t & 1);
    }
    return mcuq_sat32(mcuq_rshift_round64(p, shift));
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

#endif

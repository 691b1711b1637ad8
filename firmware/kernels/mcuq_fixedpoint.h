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

/* lo <= hi. Two independent selects (min, then max), which compilers turn into min/max
 * instructions where the core has them (XCV's cv.min, cv.max) instead of a branch. */
static inline __attribute__((always_inline)) int32_t mcuq_clamp32(int32_t x, int32_t lo,
                                                                  int32_t hi)
{
#if defined(__riscv_xcvalu)
    /* a constant range [-2^(n-1), 2^(n-1) - 1] (int8, int16, a table's domain) is one
     * cv.clip, which clang does not form from the selects by itself */
    if (__builtin_constant_p(lo) && __builtin_constant_p(hi) && hi > 0 && lo == -hi - 1
        && (hi & (hi + 1)) == 0) {
        __asm__("cv.clip %0, %0, %1" : "+r"(x) : "i"(__builtin_ctz((uint32_t)hi + 1) + 1));
        return x;
    }
#endif
    x = x > hi ? hi : x;
    return x < lo ? lo : x;
}

static inline int32_t mcuq_sat32(int64_t x)
{
    return x < INT32_MIN ? INT32_MIN : (x > INT32_MAX ? INT32_MAX : (int32_t)x);
}

/* x / 2^n rounded half up, n in [0, 31], for |x| + 2^(n-1) < 2^31 (callers keep to that) */
static inline __attribute__((always_inline)) int32_t mcuq_rshift_round(int32_t x, int32_t n)
{
#if defined(__riscv_xcvalu)
    /* one instruction: cv.addRN(r) adds 2^(n-1) (nothing for n = 0) and shifts
     * arithmetically, the formula below */
    if (__builtin_constant_p(n))
        __asm__("cv.addRN %0, %0, zero, %1" : "+r"(x) : "i"(n));
    else
        __asm__("cv.addRNr %0, zero, %1" : "+r"(x) : "r"(n));
    return x;
#else
    return (x + (int32_t)((1u << n) >> 1)) >> n;
#endif
}

/* rshift_round(a b, n) for a and b in int16 range (the caller knows it) and constant n */
static inline __attribute__((always_inline)) int32_t mcuq_mul16_rshift_round(int32_t a, int32_t b,
                                                                             int32_t n)
{
#if defined(__riscv_xcvmac)
    /* one instruction: cv.mulsRN multiplies the low halves, signed, and rounds as above */
    int32_t y;
    __asm__("cv.mulsRN %0, %1, %2, %3" : "=r"(y) : "r"(a), "r"(b), "i"(n));
    return y;
#else
    return mcuq_rshift_round(a * b, n);
#endif
}

/* rshift_round(q x, 15) for q in [0, 2^15) (a Q15 gate) and any int32 x, in 32-bit
 * arithmetic: with x = hi 2^15 + lo, lo in [0, 2^15), q hi 2^15 is a multiple of 2^15,
 * so only q lo (both factors in int16 range) is rounded; |q hi| < 2^31. */
static inline __attribute__((always_inline)) int32_t mcuq_q15_scale(int32_t q, int32_t x)
{
    return q * (x >> 15) + mcuq_mul16_rshift_round(q, x & 0x7fff, 15);
}

static inline int64_t mcuq_rshift_round64(int64_t x, int32_t n)
{
    return (x + (((int64_t)1 << n) >> 1)) >> n;
}

/* acc * mult * 2^-shift, mult in [2^30, 2^31), shift in [1, 62]; saturated to int32.
 *
 * The same value as sat32(rshift_round64(acc * mult, shift)), without 64-bit shifts on a
 * 32-bit core (a generic one costs about 40 instructions there). With p = acc * mult =
 * hi 2^32 + lo (lo in [0, 2^32)):
 *   shift > 32 (a multiplier below 1/4: most requantizations of a real layer):
 *     rshift_round(p, shift) = (hi + 2^(shift-33)) >> (shift - 32), since adding
 *     lo / 2^32 < 1 to an integer numerator cannot change the floor. One mulh and three
 *     ALU operations; |hi| < 2^30, so nothing overflows and no saturation is needed.
 *   shift <= 32 (a multiplier of 1/4 or more, such as a first layer's input projection
 *     to Q12): the same with acc 2^(33 - shift) and shift 33, an exact rewrite of the
 *     product, when acc 2^(33 - shift) fits in int32 (|acc| < 2^(shift - 2)).
 *   otherwise: the 64-bit path, saturated. */
/* rshift_round(the high word of acc mult, n), n in [1, 31]: with mult < 2^31 the high
 * word is at most 2^30 in magnitude, so the result is at most 2^29 */
static inline __attribute__((always_inline)) int32_t mcuq_mulh_round(int32_t acc, int32_t mult,
                                                                     int32_t n)
{
    const int32_t hi = (int32_t)(((int64_t)acc * mult) >> 32);
    return mcuq_rshift_round(hi, n);
}

/* (v + offset + 2^(n-1)) >> n, clamped to int8, for 0 < n <= 31 and a sum that stays in
 * int32 (each caller says why): the rounding shift of the register requantizations, with
 * the zero point (and a bias) riding in the offset. On xcv: cv.addRNr, cv.clip. */
static inline __attribute__((always_inline)) int32_t mcuq_round_clip8(int32_t v, int32_t offset,
                                                                     int32_t n)
{
#if defined(__riscv_xcvalu)
    __asm__("cv.addRNr %0, %1, %2\n\tcv.clip %0, %0, 8" : "+r"(v) : "r"(offset), "r"(n));
    return v;
#else
    v = (v + offset + (1 << (n - 1))) >> n;
    return v < -128 ? -128 : (v > 127 ? 127 : v);
#endif
}

/* zp + rshift_round(hi32(acc mult), n), clamped to int8, for 0 < n <= 22 and zp in
 * int8 range, given zp_shifted = zp 2^n: the zero point rides in the rounding shift,
 * (hi + zp 2^n + 2^(n-1)) >> n, exact because |hi32(acc mult)| <= 2^30 keeps the sum
 * below 2^31. On xcv: mulh, cv.addRNr, cv.clip. */
static inline __attribute__((always_inline)) int32_t mcuq_requant_zp8(int32_t acc, int32_t mult,
                                                                      int32_t n,
                                                                      int32_t zp_shifted)
{
    return mcuq_round_clip8((int32_t)(((int64_t)acc * mult) >> 32), zp_shifted, n);
}

/* zp + rshift_round((acc + bias) mult, shift), clamped to int8, given
 * offset = bias mult + zp 2^shift (mcuq_requant_offset): (acc mult + offset +
 * 2^(shift-1)) >> shift, for a row whose short multiplier the export proved keeps every
 * term and sum in int32 (mcuq/fixedpoint.py mul32_fits: |acc| + |bias| is within the row's
 * bound), so the product is the exact one of mcuq_requant. On xcv: mul (1 cycle, against
 * mulh's 5), cv.addRNr, cv.clip. */
static inline __attribute__((always_inline)) int32_t mcuq_requant_mul8(int32_t acc, int32_t mult,
                                                                      int32_t shift,
                                                                      int32_t offset)
{
    return mcuq_round_clip8(acc * mult, offset, shift);
}

/* the offset of mcuq_requant_mul8: the bias and the zero point, scaled to the product */
static inline __attribute__((always_inline)) int32_t mcuq_requant_offset(int32_t bias, int32_t mult,
                                                                        int32_t shift, int32_t zp)
{
    return bias * mult + (int32_t)((uint32_t)zp << shift);  /* zp 2^31 only for zp 0 */
}

static inline int32_t mcuq_requant(int32_t acc, int32_t mult, int32_t shift)
{
    if (__builtin_expect(shift > 32, 1))
        return mcuq_mulh_round(acc, mult, shift - 32);
    const int32_t up = 33 - shift;
    if (up <= 30) {
        const int32_t scaled = (int32_t)((uint32_t)acc << up);
        if ((scaled >> up) == acc)
            return mcuq_mulh_round(scaled, mult, 1);
    }
    return mcuq_sat32(mcuq_rshift_round64((int64_t)acc * mult, shift));
}

/* requant(acc, mult, shift) from the steps the export computed for a row whose |acc| it
 * bounds (mcuq/fixedpoint.py, requant_steps): post > 0 is the one-multiply form on
 * acc 2^pre (pre = 33 - shift where the bound proves that fits in int32, else 0), at most
 * 2^29 in magnitude; post <= 0 (then pre = 0) is the general path with shift = post + 32.
 * No test of the shift against 32 and no overflow check at run time. */
static inline __attribute__((always_inline)) int32_t mcuq_requant_steps(int32_t acc, int32_t mult,
                                                                        int32_t pre, int32_t post)
{
    if (__builtin_expect(post > 0, 1))
        return mcuq_mulh_round(acc * (1 << pre), mult, post);
    return mcuq_requant(acc, mult, post + 32);
}

/* f(x) in Q15 for x in Q12 from a 257-sample table with grid 2^(shift-12):
 *   x clamped to [-2^(shift+7), 2^(shift+7) - 1]
 *   i = (x >> shift) + 128, frac = x & (2^shift - 1)
 *   y = T[i] + rshift_round((T[i+1] - T[i]) * frac, shift)          */
static inline __attribute__((always_inline)) int32_t mcuq_lut_q15(const int16_t *table,
                                                                  int32_t shift, int32_t x)
{
    const int32_t limit = 1 << (shift + 7);
    x = mcuq_clamp32(x, -limit, limit - 1);
    const int32_t i = (x >> shift) + 128;
    const int32_t frac = x & ((1 << shift) - 1);
    const int32_t t0 = table[i];
    /* adjacent samples of mcuq's tables differ by far less than 2^15, and frac < 2^shift */
    return t0 + mcuq_mul16_rshift_round(table[i + 1] - t0, frac, shift);
}

static inline __attribute__((always_inline)) int32_t mcuq_sigmoid_q15_of(int32_t x_q12)
{
    return mcuq_lut_q15(mcuq_sigmoid_q15, MCUQ_SIGMOID_SHIFT, x_q12);
}

static inline __attribute__((always_inline)) int32_t mcuq_tanh_q15_of(int32_t x_q12)
{
    return mcuq_lut_q15(mcuq_tanh_q15, MCUQ_TANH_SHIFT, x_q12);
}

#endif

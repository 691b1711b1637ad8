/* FP16 arithmetic as the simulator defines it (NumPy twin: mcuq/fp16.py); the fp16 dot
 * products of the kernels are in each ISA's mcuq_isa.h.
 *
 * Every operation rounds to _Float16 on its own: each product and each sum is its own
 * statement, so x86 gcc (which evaluates _Float16 in float and rounds at assignment,
 * with -std=c99) and RV32 Zfh (native half ops) round at the same points, and
 * -ffp-contract=off forbids fused multiply-add. */
#ifndef MCUQ_FP16_H
#define MCUQ_FP16_H

#include <stdint.h>

#include "mcuq_fixedpoint.h"

/* The bits of a NaN: RISC-V arithmetic always gives the canonical NaN 0x7e00, x86 (the
 * host build) keeps an operand's sign and payload (inf - inf gives 0xfe00). A NaN stays
 * a NaN through every operation, so only stored values differ: every fp16 value a kernel
 * computes and stores goes through this, and all targets store the same bits (the
 * twin: mcuq.fp16.canonical). On RISC-V it is nothing at all. */
static inline _Float16 mcuq_f16_canonical(_Float16 x)
{
#if defined(__riscv)
    return x;
#else
    if (x != x) {
        const union { uint16_t bits; _Float16 value; } nan = {0x7e00u};
        return nan.value;
    }
    return x;
#endif
}

/* An fp16 constant given as its bits: exact, infinities included */
static inline _Float16 mcuq_f16_of_bits(uint16_t bits)
{
    const union { uint16_t bits; _Float16 value; } v = {bits};
    return v.value;
}

/* A fused activation's clamp (mcuq/ops/_activation.py): t = x < lo ? lo : x;
 * y = t > hi ? hi : t; a NaN stays a NaN. A ReLU is lo = 0, hi = inf. */
static inline _Float16 mcuq_f16_clamp(_Float16 x, _Float16 lo, _Float16 hi)
{
    const _Float16 t = x < lo ? lo : x;
    return t > hi ? hi : t;
}

/* x in Q12: truncate f32(x) * 4096, clamped to [-65536, 65535]; NaN -> 0 */
static inline int32_t mcuq_f16_to_q12(_Float16 x)
{
    float v = (float)x * 4096.0f;
    if (v != v)
        return 0;
    v = v < -65536.0f ? -65536.0f : (v > 65535.0f ? 65535.0f : v);
    return (int32_t)v;
}

static inline _Float16 mcuq_f16_from_q15(int32_t y_q15)
{
    const float v = (float)y_q15 * (1.0f / 32768.0f);
    return (_Float16)v;
}

static inline _Float16 mcuq_f16_sigmoid(_Float16 x)
{
    return mcuq_f16_from_q15(mcuq_sigmoid_q15_of(mcuq_f16_to_q12(x)));
}

static inline _Float16 mcuq_f16_tanh(_Float16 x)
{
    return mcuq_f16_from_q15(mcuq_tanh_q15_of(mcuq_f16_to_q12(x)));
}

/* 2^f on [0, 1) as a polynomial, c[0] = 1 (mcuq_tables.c; mcuq.fp16.EXP2_POLY) */
#define MCUQ_EXP2_DEGREE 6
extern const float mcuq_exp2_poly[MCUQ_EXP2_DEGREE + 1];

/* 2^t for t <= 0, in f32 (twin: mcuq.fp16.exp2_nonpositive): n = floor(t), f = t - n,
 * p = Horner over the polynomial, one rounding per product and per sum, 2^t = p * 2^n
 * (exact: n >= -30 is a normal float's exponent); below t = -30 it is 0, a NaN stays. */
static inline float mcuq_f32_exp2_nonpositive(float t)
{
    if (t != t)
        return t;
    if (t < -30.0f)
        return 0.0f;
    int32_t n = (int32_t)t; /* truncates toward zero: step down below an integer */
    if ((float)n > t)
        n -= 1;
    const float f = t - (float)n;
    float p = mcuq_exp2_poly[MCUQ_EXP2_DEGREE];
    for (int32_t k = MCUQ_EXP2_DEGREE - 1; k >= 0; k--) {
        p = p * f;
        p = p + mcuq_exp2_poly[k];
    }
    const union { uint32_t bits; float value; } power = {(uint32_t)(n + 127) << 23};
    return p * power.value;
}

/* int8 -> fp16: fp16(f32(q - zp) * scale) */
static inline _Float16 mcuq_f16_from_s8(int8_t q, int32_t zero_point, float scale)
{
    const float v = (float)((int32_t)q - zero_point) * scale;
    return (_Float16)v;
}

/* fp16 -> int8: clamp(floor(f32(x) * inv_scale + 0.5) + zp, -128, 127); NaN -> zp */
static inline int8_t mcuq_s8_from_f16(_Float16 x, int32_t zero_point, float inv_scale)
{
    float v = (float)x * inv_scale;
    if (v != v)
        v = 0.0f;
    v = v < -256.0f ? -256.0f : (v > 256.0f ? 256.0f : v);
    const float t = v + 0.5f;
    int32_t q = (int32_t)t; /* truncates toward zero: step down below zero */
    if ((float)q > t)
        q -= 1;
    return (int8_t)mcuq_clamp32(q + zero_point, -128, 127);
}

#endif

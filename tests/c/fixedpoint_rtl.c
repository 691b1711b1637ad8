/* The fixed-point primitives as the xcv kernels build them (cv.addRN/cv.addRNr rounding
 * shifts, cv.mulsRN, cv.clip, the depthwise kernels' one-mul requantization), run on the
 * CV32E40P RTL against the NumPy values in fixedpoint_cases.h (written by tests/test_fixedpoint.py). Prints each mismatch (the
 * first few), then END; the exit status is the number of mismatches. */
#include <stdio.h>

#include "fixedpoint_cases.h"
#include "mcuq_fixedpoint.h"

static int failures;

static void check(const char *what, int32_t i, int32_t got, int32_t want)
{
    if (got != want && failures++ < 8)
        printf("%s %ld: %ld != %ld\n", what, (long)i, (long)got, (long)want);
}

/* a rounding shift by a constant n: the cv.addRN (immediate) form */
#define CHECK_CONSTANT_SHIFT(N)                                                          \
    for (int32_t i = 0; i < SHIFT_CASES; i++)                                            \
        if (shift_n[i] == (N))                                                           \
            check("rshift_round const", i, mcuq_rshift_round(shift_x[i], N), shift_want[i]);

int main(void)
{
    for (int32_t i = 0; i < REQUANT_CASES; i++)
        check("requant", i, mcuq_requant(requant_acc[i], requant_mult[i], requant_shift[i]),
              requant_want[i]);
    for (int32_t i = 0; i < STEPS_CASES; i++)
        check("requant_steps", i,
              mcuq_requant_steps(steps_acc[i], steps_mult[i], steps_pre[i], steps_post[i]),
              steps_want[i]);
    for (int32_t i = 0; i < SHIFT_CASES; i++)
        check("rshift_round", i, mcuq_rshift_round(shift_x[i], shift_n[i]), shift_want[i]);
    CHECK_CONSTANT_SHIFT(0)
    CHECK_CONSTANT_SHIFT(1)
    CHECK_CONSTANT_SHIFT(7)
    CHECK_CONSTANT_SHIFT(15)
    CHECK_CONSTANT_SHIFT(30)
    CHECK_CONSTANT_SHIFT(31)
    for (int32_t i = 0; i < MUL16_CASES; i++) {
        check("mul16_rshift_round 15", i, mcuq_mul16_rshift_round(mul16_a[i], mul16_b[i], 15),
              mul16_want15[i]);
        check("mul16_rshift_round 8", i, mcuq_mul16_rshift_round(mul16_a[i], mul16_b[i], 8),
              mul16_want8[i]);
    }
    for (int32_t i = 0; i < Q15_CASES; i++)
        check("q15_scale", i, mcuq_q15_scale(q15_q[i], q15_x[i]), q15_want[i]);
    for (int32_t i = 0; i < CLAMP_CASES; i++) {
        check("clamp int8", i, mcuq_clamp32(clamp_x[i], -128, 127), clamp_want8[i]);
        check("clamp int16", i, mcuq_clamp32(clamp_x[i], -32768, 32767), clamp_want16[i]);
    }
    for (int32_t i = 0; i < TABLE_CASES; i++) {
        check("sigmoid", i, mcuq_sigmoid_q15_of(table_x[i]), table_sigmoid[i]);
        check("tanh", i, mcuq_tanh_q15_of(table_x[i]), table_tanh[i]);
    }
    for (int32_t i = 0; i < MUL8_CASES; i++) {
        const int32_t offset = mcuq_requant_offset(mul8_bias[i], mul8_mult[i], mul8_shift[i],
                                                   mul8_zp[i]);
        check("requant_mul8", i, mcuq_requant_mul8(mul8_acc[i], mul8_mult[i], mul8_shift[i],
                                                   offset), mul8_want[i]);
    }
    printf("END %d\n", failures);
    return failures;
}

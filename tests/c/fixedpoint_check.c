/* Reads lines "op a b c" and prints one result per line, for tests/test_fixedpoint.py:
 *   R acc mult shift  -> mcuq_requant
 *   S x                -> mcuq_sigmoid_q15_of (x in Q12)
 *   T x                -> mcuq_tanh_q15_of
 *   D x n              -> mcuq_rshift_round64
 * fp16 values travel as their 16-bit patterns, float32 constants as 32-bit patterns:
 *   M a b   -> a * b        P a b -> a + b          (fp16, one rounding each)
 *   G x     -> mcuq_f16_sigmoid      H x -> mcuq_f16_tanh
 *   I q zp s32 -> mcuq_f16_from_s8   J x zp s32 -> mcuq_s8_from_f16 */
#include <stdio.h>
#include <string.h>

#include "mcuq_fixedpoint.h"
#include "mcuq_fp16.h"

static _Float16 half(long long bits)
{
    const uint16_t b = (uint16_t)bits;
    _Float16 h;
    memcpy(&h, &b, 2);
    return h;
}

static unsigned bits_of(_Float16 h)
{
    uint16_t b;
    memcpy(&b, &h, 2);
    return b;
}

static float single(long long bits)
{
    const uint32_t b = (uint32_t)bits;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

int main(void)
{
    char op;
    long long a, b, c;
    while (scanf(" %c", &op) == 1) {
        if (op == 'R' && scanf("%lld %lld %lld", &a, &b, &c) == 3)
            printf("%ld\n", (long)mcuq_requant((int32_t)a, (int32_t)b, (int32_t)c));
        else if (op == 'S' && scanf("%lld", &a) == 1)
            printf("%ld\n", (long)mcuq_sigmoid_q15_of((int32_t)a));
        else if (op == 'T' && scanf("%lld", &a) == 1)
            printf("%ld\n", (long)mcuq_tanh_q15_of((int32_t)a));
        else if (op == 'D' && scanf("%lld %lld", &a, &b) == 2)
            printf("%lld\n", (long long)mcuq_rshift_round64(a, (int32_t)b));
        else if (op == 'M' && scanf("%lld %lld", &a, &b) == 2) {
            const _Float16 r = half(a) * half(b);
            printf("%u\n", bits_of(r));
        } else if (op == 'P' && scanf("%lld %lld", &a, &b) == 2) {
            const _Float16 r = half(a) + half(b);
            printf("%u\n", bits_of(r));
        } else if (op == 'G' && scanf("%lld", &a) == 1)
            printf("%u\n", bits_of(mcuq_f16_sigmoid(half(a))));
        else if (op == 'H' && scanf("%lld", &a) == 1)
            printf("%u\n", bits_of(mcuq_f16_tanh(half(a))));
        else if (op == 'I' && scanf("%lld %lld %lld", &a, &b, &c) == 3)
            printf("%u\n", bits_of(mcuq_f16_from_s8((int8_t)a, (int32_t)b, single(c))));
        else if (op == 'J' && scanf("%lld %lld %lld", &a, &b, &c) == 3)
            printf("%d\n", (int)mcuq_s8_from_f16(half(a), (int32_t)b, single(c)));
        else
            return 2;
    }
    return 0;
}

/* Reads lines "op a b c" and prints one result per line, for tests/test_fixedpoint.py:
 *   R acc mult shift  -> mcuq_requant
 *   S x                -> mcuq_sigmoid_q15_of (x in Q12)
 *   T x                -> mcuq_tanh_q15_of
 *   D x n              -> mcuq_rshift_round64 */
#include <stdio.h>

#include "mcuq_fixedpoint.h"

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
        else
            return 2;
    }
    return 0;
}

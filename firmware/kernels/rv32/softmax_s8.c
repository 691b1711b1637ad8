/* Softmax, int8 (NumPy twin: mcuq/ops/softmax.py).
 *
 * float:  y[i] = e^(x[i] - m) / sum_j e^(x[j] - m),   m = max_j x[j]
 * int8:   d[i] = max_j xq[j] - xq[i]                         (0 .. 255)
 *         e[i] = table[d[i]] = round(2^15 e^(-s_x d[i]))      (Q15, computed offline)
 *         S = sum_i e[i]                                      (int32: rows < 2^15 values)
 *         y[i] = clamp(floor((2^9 e[i] + S) / (2 S)) - 128, -128, 127)
 *         (output scale 1/256, zero point -128: round(256 e / S), the range [0, 1))
 * Each core takes a share of the rows.
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_runtime.h"
#include "mcuq_softmax.h"

void mcuq_softmax_s8(int32_t rows, int32_t length, const int32_t *table, const int8_t *input,
                     int8_t *output)
{
    int32_t first, last;
    mcuq_split(rows, &first, &last);
    for (int32_t r = first; r < last; r++) {
        const int8_t *x = input + r * length;
        int8_t *y = output + r * length;
        int32_t m = x[0];
        for (int32_t i = 1; i < length; i++)
            m = x[i] > m ? x[i] : m;
        int32_t sum = 0;
        for (int32_t i = 0; i < length; i++)
            sum += table[m - x[i]];
        for (int32_t i = 0; i < length; i++) {
            const int32_t v = (table[m - x[i]] * 512 + sum) / (2 * sum);
            y[i] = (int8_t)mcuq_clamp32(v - 128, -128, 127);
        }
    }
}

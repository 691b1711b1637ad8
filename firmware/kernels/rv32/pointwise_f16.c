/* Pointwise functions, fp16 (NumPy twin: mcuq/ops/pointwise.py, fp16_function).
 *
 * float:  clip          y = min(max(x, a), b)
 *         leaky_relu    y = x < 0 ? a x : x
 *         hard_sigmoid  y = max(0, min(1, a x + b))
 *         hard_swish    y = x max(0, min(1, a x + b))
 *         mul  y = a x     div  y = x / a     add  y = x + b     sub_from  y = b - x
 * fp16:   a and b are fp16 (given as bits: exact, infinities included); every operation
 *         rounds to fp16 on its own statement, in the order of the twin:
 *         clip          t = x < a ? a : x; y = t > b ? b : t
 *         leaky_relu    y = x < 0 ? fp16(x a) : x
 *         hard_sigmoid  t = fp16(x a); t = fp16(t + b); y = clamp(t, 0, 1)
 *         hard_swish    t as hard_sigmoid; y = fp16(x t)
 *         mul fp16(x a), div fp16(x / a), add fp16(x + b), sub_from fp16(b - x)
 *         every stored value through mcuq_f16_canonical (one NaN)
 * Each core takes its share of the elements.
 */
#include "mcuq_fp16.h"
#include "mcuq_pointwise.h"
#include "mcuq_runtime.h"

static inline _Float16 unit_clamp(_Float16 t)
{
    return t < (_Float16)0 ? (_Float16)0 : (t > (_Float16)1 ? (_Float16)1 : t);
}

void mcuq_pointwise_f16(int32_t size, int32_t function, uint16_t a_bits, uint16_t b_bits,
                        const _Float16 *input, _Float16 *output)
{
    const _Float16 a = mcuq_f16_of_bits(a_bits), b = mcuq_f16_of_bits(b_bits);
    int32_t first, last;
    mcuq_split(size, &first, &last);
    for (int32_t i = first; i < last; i++) {
        const _Float16 x = input[i];
        _Float16 y, t;
        switch (function) {
        case MCUQ_POINTWISE_CLIP:
            y = mcuq_f16_clamp(x, a, b);
            break;
        case MCUQ_POINTWISE_LEAKY_RELU:
            t = x * a;
            y = x < (_Float16)0 ? t : x;
            break;
        case MCUQ_POINTWISE_HARD_SIGMOID:
        case MCUQ_POINTWISE_HARD_SWISH:
            t = x * a;
            t = t + b;
            t = unit_clamp(t);
            y = t;
            if (function == MCUQ_POINTWISE_HARD_SWISH)
                y = x * t;
            break;
        case MCUQ_POINTWISE_MUL:
            y = x * a;
            break;
        case MCUQ_POINTWISE_DIV:
            y = x / a;
            break;
        case MCUQ_POINTWISE_ADD:
            y = x + b;
            break;
        default: /* MCUQ_POINTWISE_SUB_FROM */
            y = b - x;
            break;
        }
        output[i] = mcuq_f16_canonical(y);
    }
}

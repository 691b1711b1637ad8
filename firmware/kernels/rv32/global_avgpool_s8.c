/* Global average pooling, int8 (NumPy twin: mcuq/ops/global_avgpool.py).
 *
 * float:  y[c] = (1 / HW) sum over the image of x[c]
 * int8:   sum[c] = sum over the pixels of (xq - zp_x)      (int32)
 *         y[c]   = clamp(zp_y + requant(sum[c], M), -128, 127)   M ~ s_x / (HW s_y)
 * Each core takes a share of the channels (a pixel's channels are adjacent in HWC).
 */
#include "mcuq_fixedpoint.h"
#include "mcuq_pool.h"
#include "mcuq_runtime.h"

void mcuq_global_avgpool_s8(const mcuq_global_avgpool_s8_t *p, const int8_t *input,
                            int8_t *output)
{
    /* the fields in locals: the output stores could alias them */
    const int32_t channels = p->channels, zp = p->out_zero_point, pixels = p->pixels;
    const int32_t base = -p->in_zero_point * pixels, mult = p->mult, shift = p->shift;
    int32_t first, last;
    mcuq_split(channels, &first, &last);
    for (int32_t c = first; c < last; c++) {
        int32_t sum = base;
        const int8_t *x = input + c;
        for (int32_t i = 0; i < pixels; i++, x += channels)
            sum += *x;
        const int32_t y = mcuq_requant(sum, mult, shift);
        output[c] = (int8_t)(mcuq_clamp32(y, -128 - zp, 127 - zp) + zp);
    }
}

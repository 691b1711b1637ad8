/* Flatten: an HWC image -> a channel-major vector (NumPy twin: mcuq/ops/flatten.py;
 * kernels: firmware/kernels/<isa>/). y[c * pixels + i] = x[i * channels + c]. */
#ifndef MCUQ_FLATTEN_H
#define MCUQ_FLATTEN_H

#include <stdint.h>

void mcuq_flatten_s8(int32_t channels, int32_t pixels, const int8_t *input, int8_t *output);
void mcuq_flatten_f16(int32_t channels, int32_t pixels, const _Float16 *input,
                      _Float16 *output);

#endif

/* Conversions at precision boundaries: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/convert.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_CONVERT_H
#define MCUQ_CONVERT_H

#include <stdint.h>

/* precision boundaries: int8 -> fp16 and fp16 -> int8 (scale and zero point of the int8 side) */
void mcuq_convert_f16(int32_t size, int32_t zero_point, float scale, const int8_t *input,
                      _Float16 *output);
void mcuq_convert_s8(int32_t size, int32_t zero_point, float inv_scale, const _Float16 *input,
                     int8_t *output);

#endif

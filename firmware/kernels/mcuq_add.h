/* Add: the kernel interface, whatever the instruction set (NumPy twin:
 * mcuq/ops/add.py; kernels: firmware/kernels/<isa>/). Weight arrays are in the layout of the
 * export's instruction set (mcuq/layouts.py); the comments give the rv32 one. */
#ifndef MCUQ_ADD_H
#define MCUQ_ADD_H

#include <stdint.h>

#define MCUQ_ADD_SHIFT 16 /* fraction bits of the rescaled int8 Add inputs */

typedef struct {
    int32_t size;
    int32_t a_zero_point, a_mult, a_shift;  /* a -> output scale 2^16 */
    int32_t b_zero_point, b_mult, b_shift;
    int32_t out_zero_point;
} mcuq_add_s8_t;

void mcuq_add_s8(const mcuq_add_s8_t *p, const int8_t *a, const int8_t *b, int8_t *output);
void mcuq_add_f16(int32_t size, const _Float16 *a, const _Float16 *b, _Float16 *output);

#endif

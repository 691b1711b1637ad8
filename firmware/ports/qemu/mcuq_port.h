/* RV32 port for QEMU `virt` (bare metal, picolibc, semihosting for stdio and exit).
 * Hart 0 is the control core and runs main(); other harts park in start.S. */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>

static inline void mcuq_port_init(void) {}

/* Retired instructions. Under `qemu -icount shift=0` this counter is exact and
 * repeatable; while only hart 0 runs it counts hart 0's instructions. */
static inline uint32_t mcuq_port_instructions(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

#endif

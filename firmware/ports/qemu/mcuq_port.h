/* RV32 port for QEMU `virt` (bare metal, picolibc, semihosting for stdio and exit).
 * Hart 0 is the control core and runs main(); harts 1..8 are the cluster cores. */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>
#include <string.h>

extern volatile int32_t mcuq_qemu_core_count;

static inline uint32_t mcuq_hart_id(void)
{
    uint32_t id;
    __asm__ volatile("csrr %0, mhartid" : "=r"(id));
    return id;
}

static inline int32_t mcuq_core_id(void) { return (int32_t)mcuq_hart_id() - 1; }
static inline int32_t mcuq_core_count(void) { return mcuq_qemu_core_count; }
static inline void mcuq_port_init(void) {}

/* Retired instructions. Under `qemu -icount shift=0` the counter is exact and
 * repeatable, but in QEMU 7.2 it is one clock for all harts: read on the control
 * core around a frame it counts every hart's instructions. */
static inline uint32_t mcuq_port_instructions(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

/* One memory (no level attributes: mcuq_runtime.h's defaults), and a DMA transfer is a
 * copy, done when it starts. The copy is bracketed by two no-op markers that mcuq
 * bench's instruction counter leaves out (firmware/bench/insncount.c), as a cluster DMA
 * copies beside the cores. */
typedef int32_t mcuq_dma_t;
static inline void mcuq_dma_start(mcuq_dma_t *dma, void *dst, const void *src, uint32_t bytes)
{
    (void)dma;
    __asm__ volatile(".4byte 0x7a200013" ::: "memory"); /* addi x0, x0, 0x7a2 */
    memcpy(dst, src, bytes);
    __asm__ volatile(".4byte 0x7a300013" ::: "memory"); /* addi x0, x0, 0x7a3 */
}
static inline void mcuq_dma_wait(mcuq_dma_t *dma) { (void)dma; }

#endif

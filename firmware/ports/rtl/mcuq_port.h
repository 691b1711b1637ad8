/* CV32E40P testbench port (mcuq verify|bench --target rtl). The testbench has one core,
 * so the cluster is simulated: a fork runs the task's `cores` shares one after another as
 * virtual cores, each on its own stack, and a barrier switches to the next virtual core
 * (runtime.c). The work split is the one the real cluster runs, and every share is
 * timed on the core's own cycle counter. */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>

extern volatile int32_t mcuq_rtl_core;       /* the virtual core running now */
extern volatile int32_t mcuq_rtl_core_count; /* virtual cores of the running task */

static inline int32_t mcuq_core_id(void) { return mcuq_rtl_core; }
static inline int32_t mcuq_core_count(void) { return mcuq_rtl_core_count; }
static inline void mcuq_port_init(void) {}

static inline uint32_t mcuq_port_cycles(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, mcycle" : "=r"(v));
    return v;
}

static inline uint32_t mcuq_port_instructions(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

/* Cycles and instructions since the last call, each summed over the running task's
 * barrier phases as the busiest virtual core of each phase (the critical path of an
 * 8-core cluster, without its memory-bank contention), and per virtual core. */
typedef struct {
    uint32_t critical_cycles, critical_instructions;
    uint32_t cycles[8], instructions[8];
    uint32_t dma_bytes; /* moved by mcuq_dma_start */
} mcuq_port_counts_t;
void mcuq_port_take_counts(mcuq_port_counts_t *counts);
#define MCUQ_PORT_COUNTS 8 /* cores with counts */

/* One memory (no level attributes: mcuq_runtime.h's defaults). A DMA transfer is a copy
 * that the cycle counts leave out, as a cluster DMA runs beside the cores: the counts
 * show what the cores spend on tiling, and the bytes moved are counted for a modelled
 * transfer time (mcuq bench). */
typedef int32_t mcuq_dma_t;
void mcuq_dma_start(mcuq_dma_t *dma, void *dst, const void *src, uint32_t bytes);
static inline void mcuq_dma_wait(mcuq_dma_t *dma) { (void)dma; }

#endif

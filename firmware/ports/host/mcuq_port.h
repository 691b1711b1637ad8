/* Host port (POSIX threads): the model runs on the build machine, each cluster core
 * a thread. No instruction counter. */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>
#include <string.h>

extern __thread int32_t mcuq_host_core_id;
extern int32_t mcuq_host_core_count;

static inline int32_t mcuq_core_id(void) { return mcuq_host_core_id; }
static inline int32_t mcuq_core_count(void) { return mcuq_host_core_count; }
static inline void mcuq_port_init(void) {}
static inline uint32_t mcuq_port_instructions(void) { return 0; }

/* one memory (no level attributes: mcuq_runtime.h's defaults), and a DMA transfer is a
 * copy, done when it starts */
typedef int32_t mcuq_dma_t;
static inline void mcuq_dma_start(mcuq_dma_t *dma, void *dst, const void *src, uint32_t bytes)
{
    (void)dma;
    memcpy(dst, src, bytes);
}
static inline void mcuq_dma_wait(mcuq_dma_t *dma) { (void)dma; }

#endif

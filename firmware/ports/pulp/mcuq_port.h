/* GAP9 / PULP port on the PMSIS API (needs the GAP SDK; not built by mcuq's tests).
 * The fabric controller runs the model; each layer is sent to the cluster, whose
 * controller forks it over a team of cores with pi_cl_team_fork. Weights larger than
 * their L1 budget are streamed into L1 by the cluster DMA (firmware/kernels/rv32/stream.h). */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>

#include "pmsis.h"

static inline int32_t mcuq_core_id(void) { return (int32_t)pi_core_id(); }
static inline int32_t mcuq_core_count(void) { return (int32_t)pi_cl_team_nb_cores(); }
static inline void mcuq_port_init(void) {}
static inline uint32_t mcuq_port_instructions(void) { return 0; }

/* Memory levels as PMSIS places data: the cluster's L1 and L2. GAP9's MRAM is read
 * through its flash API, not by address, so weights meant for it are placed in L2 by
 * this port (a firmware that keeps them in MRAM copies them to L2 at start-up). */
#define MCUQ_L1 PI_CL_L1
#define MCUQ_L2 PI_L2
#define MCUQ_NVM PI_L2

/* The cluster DMA, L2 -> L1, started by one core and waited for by the same core.
 * Transfers go in chunks of at most MCUQ_DMA_CHUNK bytes, and the channel completes them
 * in order, so waiting for the last one waits for all. */
#define MCUQ_DMA_CHUNK 32768u
typedef pi_cl_dma_cmd_t mcuq_dma_t;
static inline void mcuq_dma_start(mcuq_dma_t *dma, void *dst, const void *src, uint32_t bytes)
{
    uint32_t done = 0;
    do {
        const uint32_t n = bytes - done < MCUQ_DMA_CHUNK ? bytes - done : MCUQ_DMA_CHUNK;
        pi_cl_dma_cmd((uint32_t)src + done, (uint32_t)dst + done, n, PI_CL_DMA_DIR_EXT2LOC, dma);
        done += n;
    } while (done < bytes);
}
static inline void mcuq_dma_wait(mcuq_dma_t *dma) { pi_cl_dma_cmd_wait(dma); }

#endif

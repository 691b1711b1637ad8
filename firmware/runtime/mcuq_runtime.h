/* The multi-core runtime seen by kernels and generated code. One control core runs
 * the model and forks each layer onto `cores` cluster cores; inside a task, a kernel
 * asks which core it is and takes its share of the work with mcuq_split().
 *
 * Ports (firmware/ports/<port>/runtime.c + mcuq_port.h) provide:
 *   mcuq_core_id()       this core's index in the running task, 0 .. cores-1
 *   mcuq_core_count()    cores in the running task
 *   mcuq_cluster_fork()  run fn(arg) on cores 0 .. cores-1, return when all finished
 *   mcuq_cluster_barrier() wait until every core of the running task has arrived
 *   mcuq_dma_t, mcuq_dma_start(dma, dst, src, bytes), mcuq_dma_wait(dma)
 *                        copy bytes from L2 or non-volatile memory into the cluster's L1
 *                        (weight streaming, firmware/kernels/rv32/stream.h): started by
 *                        one core, in the background on a chip with a cluster DMA
 *   MCUQ_L1, MCUQ_L2, MCUQ_NVM  attributes that place an array at a memory level
 * host: POSIX threads; qemu: RV32 harts on QEMU virt; pulp: PMSIS cluster team API and
 * cluster DMA. On host, qemu and rtl the DMA is a copy and the levels are plain memory,
 * so the tiling and buffer logic run there bit-exact.
 */
#ifndef MCUQ_RUNTIME_H
#define MCUQ_RUNTIME_H

#include <stdint.h>

#include "mcuq_port.h"

/* a port with one memory leaves the level attributes undefined: plain arrays */
#ifndef MCUQ_L1
#define MCUQ_L1
#endif
#ifndef MCUQ_L2
#define MCUQ_L2
#endif
#ifndef MCUQ_NVM
#define MCUQ_NVM
#endif

#define MCUQ_MAX_CORES 8

typedef void (*mcuq_task_fn)(void *arg);

void mcuq_cluster_fork(int32_t cores, mcuq_task_fn fn, void *arg);
void mcuq_cluster_barrier(void);

/* This core's share [*start, *end) of n items: contiguous chunks whose sizes differ
 * by at most one (the first n % cores cores take one more). The one work-split
 * helper of every kernel. */
static inline void mcuq_split(int32_t n, int32_t *start, int32_t *end)
{
    const int32_t core = mcuq_core_id(), cores = mcuq_core_count();
    const int32_t base = n / cores, extra = n % cores;
    *start = core * base + (core < extra ? core : extra);
    *end = *start + base + (core < extra ? 1 : 0);
}

#endif

/* Runtime of the CV32E40P testbench port: virtual cluster cores on the one real core.
 *
 * mcuq_cluster_fork(cores, fn, arg) starts `cores` contexts, each running fn(arg) on its
 * own stack with mcuq_core_id() = its index, one at a time: core c runs until it reaches
 * a barrier or finishes, then passes the core to c + 1. When the last one reaches a
 * barrier, every core has arrived, and core 0 resumes; when the last one finishes, the
 * fork returns. So each kernel runs exactly the shares, phases and synchronisation of
 * the real cluster, in a fixed order (the results are independent of the order: cores
 * write disjoint outputs between barriers).
 *
 * Timing: the cycles (and instructions) between a core's resumption and its next switch
 * are its own; a phase costs what its busiest core spent; the context switches are not
 * counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuq_runtime.h"

void mcuq_rtl_switch(uint32_t *save_sp, uint32_t next_sp);

volatile int32_t mcuq_rtl_core;
volatile int32_t mcuq_rtl_core_count = 1;

extern uint8_t __core_stacks[];
extern const uint8_t __core_stack_size[]; /* a linker-script constant: its address */

static uint32_t saved_sp[MCUQ_MAX_CORES], control_sp;
static mcuq_task_fn task_fn;
static void *task_arg;
static int32_t arrived, finished;
static uint32_t mark_cycles, mark_instructions;
static uint32_t phase_cycles[MCUQ_MAX_CORES], phase_instructions[MCUQ_MAX_CORES];
static mcuq_port_counts_t totals;

/* the running core's time since it resumed goes to its phase */
static void account(void)
{
    const uint32_t c = mcuq_port_cycles(), i = mcuq_port_instructions();
    phase_cycles[mcuq_rtl_core] += c - mark_cycles;
    phase_instructions[mcuq_rtl_core] += i - mark_instructions;
}

static void resume_clock(void)
{
    mark_cycles = mcuq_port_cycles();
    mark_instructions = mcuq_port_instructions();
}

/* a phase ends (all cores at a barrier, or all finished): its busiest core's time */
static void end_phase(void)
{
    uint32_t cycles = 0, instructions = 0;
    for (int32_t c = 0; c < mcuq_rtl_core_count; c++) {
        cycles = phase_cycles[c] > cycles ? phase_cycles[c] : cycles;
        instructions = phase_instructions[c] > instructions ? phase_instructions[c] : instructions;
        totals.cycles[c] += phase_cycles[c];
        totals.instructions[c] += phase_instructions[c];
        phase_cycles[c] = phase_instructions[c] = 0;
    }
    totals.critical_cycles += cycles;
    totals.critical_instructions += instructions;
}

static void core_entry(void)
{
    resume_clock();
    task_fn(task_arg);
    account();
    const int32_t me = mcuq_rtl_core;
    if (++finished == mcuq_rtl_core_count) {
        end_phase();
        mcuq_rtl_switch(&saved_sp[me], control_sp);
    } else {
        mcuq_rtl_core = me + 1;
        mcuq_rtl_switch(&saved_sp[me], saved_sp[me + 1]);
    }
    for (;;) /* a finished core is never resumed */
        ;
}

/* a fresh context whose first switch-in "returns" into core_entry */
static uint32_t new_context(int32_t core)
{
    const uint32_t size = (uint32_t)(uintptr_t)__core_stack_size;
    uint32_t *frame = (uint32_t *)(__core_stacks + (uint32_t)(core + 1) * size - 64);
    memset(frame, 0, 64);
    frame[0] = (uint32_t)(uintptr_t)core_entry; /* ra */
    return (uint32_t)(uintptr_t)frame;
}

void mcuq_cluster_fork(int32_t cores, mcuq_task_fn fn, void *arg)
{
    if (cores < 1 || cores > MCUQ_MAX_CORES) {
        printf("mcuq: %d cores requested, 1 to %d supported\n", (int)cores, MCUQ_MAX_CORES);
        exit(3);
    }
    task_fn = fn;
    task_arg = arg;
    mcuq_rtl_core_count = cores;
    arrived = finished = 0;
    for (int32_t c = 0; c < cores; c++)
        saved_sp[c] = new_context(c);
    mcuq_rtl_core = 0;
    mcuq_rtl_switch(&control_sp, saved_sp[0]);
}

void mcuq_cluster_barrier(void)
{
    account();
    const int32_t me = mcuq_rtl_core;
    int32_t next = me + 1;
    if (++arrived == mcuq_rtl_core_count) {
        arrived = 0;
        end_phase();
        next = 0;
    }
    if (next != me) {
        mcuq_rtl_core = next;
        mcuq_rtl_switch(&saved_sp[me], saved_sp[next]);
        mcuq_rtl_core = me;
    }
    resume_clock();
}

void mcuq_dma_start(mcuq_dma_t *dma, void *dst, const void *src, uint32_t bytes)
{
    (void)dma;
    account();
    memcpy(dst, src, bytes);
    totals.dma_bytes += bytes;
    resume_clock();
}

void mcuq_port_take_counts(mcuq_port_counts_t *counts)
{
    *counts = totals;
    memset(&totals, 0, sizeof totals);
}

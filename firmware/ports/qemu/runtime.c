/* QEMU virt port of the runtime. Cluster harts sleep in wfi and are woken by a CLINT
 * software interrupt (msip), as GAP9's cluster cores sleep on its event unit. No hart
 * spins: under -icount all harts share one host thread, and a spinning hart would
 * burn its whole time slice. mie.MSIE is set in start.S and mstatus.MIE stays 0, so
 * wfi returns without taking a trap.
 *
 * A wake-up cannot be lost: a waiter clears its msip, then tests its condition,
 * then sleeps; a waker publishes the condition, then sets msip. */
#include <stdio.h>
#include <stdlib.h>

#include "mcuq_runtime.h"

#define CLINT_MSIP ((volatile uint32_t *)0x02000000u)
#define CLINT_MTIMECMP ((volatile uint32_t *)0x02004000u) /* hart 0's */
#define CLINT_MTIME ((volatile uint32_t *)0x0200bff8u)
#define MTIME_HZ 10000000u
#define MIE_MTIE (1u << 7)

volatile int32_t mcuq_qemu_core_count = 1;

static mcuq_task_fn volatile job_fn;
static void *volatile job_arg;
static volatile uint32_t job_generation;
static volatile uint32_t job_done;
static volatile uint32_t harts_online;
static volatile uint32_t barrier_count;
static volatile uint32_t barrier_sense;

static inline void wake(uint32_t hart)
{
    __asm__ volatile("fence iorw, iorw" ::: "memory");
    CLINT_MSIP[hart] = 1;
}

#define WAIT_UNTIL(cond)                                         \
    for (;;) {                                                   \
        CLINT_MSIP[mcuq_hart_id()] = 0;                          \
        __asm__ volatile("fence iorw, iorw" ::: "memory");       \
        if (cond)                                                \
            break;                                               \
        __asm__ volatile("wfi" ::: "memory");                    \
    }

static uint64_t mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = CLINT_MTIME[1];
        lo = CLINT_MTIME[0];
    } while (hi != CLINT_MTIME[1]);
    return ((uint64_t)hi << 32) | lo;
}

/* entered by harts 1..8 from start.S once hart 0 has initialised memory */
void mcuq_cluster_loop(uint32_t hart)
{
    uint32_t seen = 0;
    __atomic_fetch_add(&harts_online, 1, __ATOMIC_ACQ_REL);
    wake(0);
    for (;;) {
        uint32_t generation;
        WAIT_UNTIL((generation = __atomic_load_n(&job_generation, __ATOMIC_ACQUIRE)) != seen);
        seen = generation;
        const uint32_t cores = (uint32_t)mcuq_qemu_core_count;
        if (hart - 1 < cores) {
            job_fn(job_arg);
            if (__atomic_fetch_add(&job_done, 1, __ATOMIC_ACQ_REL) == cores - 1)
                wake(0);
        }
    }
}

/* Fail fast, not hang, when QEMU runs fewer harts than the model's core count:
 * wait for them at most one (virtual) second, woken by hart 0's timer. */
static void wait_for_harts(uint32_t cores)
{
    const uint64_t deadline = mtime() + MTIME_HZ;
    CLINT_MTIMECMP[1] = 0xffffffffu;
    CLINT_MTIMECMP[0] = (uint32_t)deadline;
    CLINT_MTIMECMP[1] = (uint32_t)(deadline >> 32);
    __asm__ volatile("csrs mie, %0" ::"r"(MIE_MTIE));
    WAIT_UNTIL(__atomic_load_n(&harts_online, __ATOMIC_ACQUIRE) >= cores || mtime() >= deadline);
    __asm__ volatile("csrc mie, %0" ::"r"(MIE_MTIE));
    CLINT_MTIMECMP[0] = 0xffffffffu;
    CLINT_MTIMECMP[1] = 0xffffffffu;
    if (harts_online < cores) {
        printf("mcuq: %u cluster cores needed, %u harts online (run qemu with -smp %u)\n",
               (unsigned)cores, (unsigned)harts_online, (unsigned)cores + 1);
        exit(3);
    }
}

void mcuq_cluster_fork(int32_t cores, mcuq_task_fn fn, void *arg)
{
    if (cores < 1 || cores > MCUQ_MAX_CORES) {
        printf("mcuq: %d cores requested, 1 to %d supported\n", (int)cores, MCUQ_MAX_CORES);
        exit(3);
    }
    if (harts_online < (uint32_t)cores)
        wait_for_harts((uint32_t)cores);
    job_fn = fn;
    job_arg = arg;
    mcuq_qemu_core_count = cores;
    __atomic_store_n(&job_done, 0, __ATOMIC_RELAXED);
    __atomic_fetch_add(&job_generation, 1, __ATOMIC_RELEASE);
    for (int32_t c = 0; c < cores; c++)
        wake((uint32_t)c + 1);
    WAIT_UNTIL(__atomic_load_n(&job_done, __ATOMIC_ACQUIRE) == (uint32_t)cores);
}

/* sense-reversing barrier of the cores of the running task */
void mcuq_cluster_barrier(void)
{
    const uint32_t cores = (uint32_t)mcuq_qemu_core_count;
    const uint32_t sense = __atomic_load_n(&barrier_sense, __ATOMIC_RELAXED);
    if (__atomic_fetch_add(&barrier_count, 1, __ATOMIC_ACQ_REL) == cores - 1) {
        __atomic_store_n(&barrier_count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&barrier_sense, sense ^ 1u, __ATOMIC_RELEASE);
        const uint32_t me = mcuq_hart_id();
        for (uint32_t c = 0; c < cores; c++)
            if (c + 1 != me)
                wake(c + 1);
    } else {
        WAIT_UNTIL(__atomic_load_n(&barrier_sense, __ATOMIC_ACQUIRE) != sense);
    }
}

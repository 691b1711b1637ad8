/* Host port of the runtime: a fork starts one thread per core and joins them all;
 * the barrier is a pthread barrier of that many threads. Simple and obviously
 * correct, which is what a verification target needs. One core runs in the calling
 * thread: the host engine (mcuq/engine.py) calls a model tens of thousands of times. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "mcuq_runtime.h"

__thread int32_t mcuq_host_core_id;
int32_t mcuq_host_core_count = 1;

static pthread_barrier_t barrier;

typedef struct {
    mcuq_task_fn fn;
    void *arg;
    int32_t core;
} worker_t;

static void *worker(void *p)
{
    const worker_t *w = (const worker_t *)p;
    mcuq_host_core_id = w->core;
    w->fn(w->arg);
    return NULL;
}

void mcuq_cluster_fork(int32_t cores, mcuq_task_fn fn, void *arg)
{
    pthread_t threads[MCUQ_MAX_CORES];
    worker_t workers[MCUQ_MAX_CORES];
    if (cores < 1 || cores > MCUQ_MAX_CORES) {
        fprintf(stderr, "mcuq: %d cores requested, 1 to %d supported\n", (int)cores,
                MCUQ_MAX_CORES);
        exit(3);
    }
    mcuq_host_core_count = cores;
    pthread_barrier_init(&barrier, NULL, (unsigned)cores);
    if (cores == 1) {  /* the calling thread is the core: no thread per layer */
        mcuq_host_core_id = 0;
        fn(arg);
        pthread_barrier_destroy(&barrier);
        return;
    }
    for (int32_t c = 0; c < cores; c++) {
        workers[c] = (worker_t){fn, arg, c};
        if (pthread_create(&threads[c], NULL, worker, &workers[c]) != 0) {
            fprintf(stderr, "mcuq: cannot start thread %d\n", (int)c);
            exit(3);
        }
    }
    for (int32_t c = 0; c < cores; c++)
        pthread_join(threads[c], NULL);
    pthread_barrier_destroy(&barrier);
}

void mcuq_cluster_barrier(void)
{
    pthread_barrier_wait(&barrier);
}

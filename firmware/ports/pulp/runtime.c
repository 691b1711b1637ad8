/* GAP9 / PULP port of the runtime on PMSIS: mcuq_cluster_fork, called on the fabric
 * controller, sends one cluster task whose entry forks the team. */
#include "mcuq_runtime.h"

typedef struct {
    int32_t cores;
    mcuq_task_fn fn;
    void *arg;
} team_t;

static struct pi_device cluster;
static int cluster_open;

static void team_entry(void *arg)
{
    team_t *team = (team_t *)arg;
    pi_cl_team_fork(team->cores, team->fn, team->arg);
}

void mcuq_cluster_fork(int32_t cores, mcuq_task_fn fn, void *arg)
{
    if (!cluster_open) {
        struct pi_cluster_conf conf;
        pi_cluster_conf_init(&conf);
        pi_open_from_conf(&cluster, &conf);
        if (pi_cluster_open(&cluster))
            pmsis_exit(-1);
        cluster_open = 1;
    }
    team_t team = {cores, fn, arg};
    struct pi_cluster_task task;
    pi_cluster_task(&task, team_entry, &team);
    pi_cluster_send_task_to_cl(&cluster, &task);
}

void mcuq_cluster_barrier(void)
{
    pi_cl_team_barrier();
}

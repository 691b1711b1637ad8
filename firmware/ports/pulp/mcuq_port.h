/* GAP9 / PULP port on the PMSIS API (needs the GAP SDK; not built by mcuq's tests).
 * The fabric controller runs the model; each layer is sent to the cluster, whose
 * controller forks it over a team of cores with pi_cl_team_fork. Weights and the
 * arena are used in place from L2 (no L1 tiling yet). */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>

#include "pmsis.h"

static inline int32_t mcuq_core_id(void) { return (int32_t)pi_core_id(); }
static inline int32_t mcuq_core_count(void) { return (int32_t)pi_cl_team_nb_cores(); }
static inline void mcuq_port_init(void) {}
static inline uint32_t mcuq_port_instructions(void) { return 0; }

#endif

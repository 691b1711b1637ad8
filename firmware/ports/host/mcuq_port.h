/* Host port (POSIX): the model runs on the build machine; no instruction counter. */
#ifndef MCUQ_PORT_H
#define MCUQ_PORT_H

#include <stdint.h>

static inline void mcuq_port_init(void) {}
static inline uint32_t mcuq_port_instructions(void) { return 0; }

#endif

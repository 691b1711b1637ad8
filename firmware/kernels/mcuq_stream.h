/* Weight streaming: the kernel interface, whatever the instruction set (placement:
 * codegen/memory.py; the loop: firmware/kernels/<isa>/stream.h).
 *
 * A streamed layer's weights stay at their home level (L2 or non-volatile memory) and
 * reach the cores through L1 in tiles of `tile_units` units (output channel groups or
 * recurrent hidden units): two L1 buffers of `tile_bytes` each, one computed from while
 * the DMA fills the other (double buffering). A unit's data is a slice of each of the
 * layer's streamed arrays ("parts": weights, biases, requantization records), the same
 * number of bytes per unit in every tile; a tile's parts lie one after the other in its
 * buffer, each at a multiple of 8 bytes. */
#ifndef MCUQ_STREAM_H
#define MCUQ_STREAM_H

#include <stdint.h>

#define MCUQ_STREAM_PARTS 4

typedef struct {
    const void *source;   /* the whole array at its home level */
    int32_t unit_bytes;   /* bytes per unit */
    int32_t bytes;        /* of the whole array (its last unit may be shorter) */
} mcuq_stream_part_t;

typedef struct {
    uint8_t *buffer;      /* two tiles in L1, tile_bytes apart */
    int32_t tile_bytes;
    int32_t tile_units;
    int32_t units;        /* of the layer */
    int32_t parts;
    mcuq_stream_part_t part[MCUQ_STREAM_PARTS];
} mcuq_stream_t;

#endif

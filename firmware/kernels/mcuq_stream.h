/* Weight streaming: the kernel interface, whatever the instruction set (placement and
 * tile layout: codegen/memory.py; the loop: firmware/kernels/<isa>/stream.h).
 *
 * A streamed layer's weights stay at their home level (L2 or non-volatile memory) and
 * reach the cores through L1 in tiles of `tile_units` units (hidden units of a recurrent
 * layer, groups of four output channels of a Linear): two L1 buffers of `tile_bytes`
 * each, one computed from while the DMA fills the other (double buffering). A unit's data
 * is a slice of each of the layer's streamed arrays ("parts": weights, biases,
 * requantization records). The export stores the parts tile by tile, as each tile lies
 * in L1, so that one transfer moves a tile: in a tile of n units, part p holds
 * n * unit_bytes[p] bytes and starts at a multiple of 8 bytes after part p - 1; tile t
 * starts t * tile_bytes into `source` (only the last tile may hold fewer units). */
#ifndef MCUQ_STREAM_H
#define MCUQ_STREAM_H

#include <stdint.h>

#define MCUQ_STREAM_PARTS 4

typedef struct {
    const uint8_t *source;  /* every tile, at the home level */
    uint8_t *buffer;        /* two tiles in L1, tile_bytes apart */
    int32_t tile_bytes;     /* of a full tile */
    int32_t tile_units;
    int32_t units;          /* of the layer */
    int32_t parts;
    int32_t unit_bytes[MCUQ_STREAM_PARTS];
} mcuq_stream_t;

#endif

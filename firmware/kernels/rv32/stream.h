/* The loop of a streamed layer (mcuq_stream.h): core 0 starts the DMA of tile t + 1
 * into one L1 buffer while every core computes its share of tile t from the other;
 * a barrier ends each tile, after core 0 has waited for its transfer, so that a
 * buffer is refilled only when no core reads it any more. Tile 0 is fetched before
 * the loop (its transfer is not hidden). */
#ifndef MCUQ_STREAM_LOOP_H
#define MCUQ_STREAM_LOOP_H

#include "mcuq_runtime.h"
#include "mcuq_stream.h"

/* part p of the tile in buffer `slot` */
static inline uint8_t *mcuq_stream_part(const mcuq_stream_t *s, int32_t slot, int32_t p)
{
    uint8_t *at = s->buffer + slot * s->tile_bytes;
    for (int32_t q = 0; q < p; q++)
        at += (s->tile_units * s->part[q].unit_bytes + 7) & ~7;
    return at;
}

static inline void mcuq_stream_fetch(const mcuq_stream_t *s, int32_t tile, mcuq_dma_t *dma)
{
    const int32_t first = tile * s->tile_units;
    const int32_t units = s->units - first < s->tile_units ? s->units - first : s->tile_units;
    for (int32_t p = 0; p < s->parts; p++) {
        const mcuq_stream_part_t *part = &s->part[p];
        const int32_t offset = first * part->unit_bytes;
        int32_t bytes = units * part->unit_bytes;
        bytes = part->bytes - offset < bytes ? part->bytes - offset : bytes;
        mcuq_dma_start(&dma[p], mcuq_stream_part(s, tile & 1, p),
                       (const uint8_t *)part->source + offset, (uint32_t)bytes);
    }
}

static inline void mcuq_stream_wait(const mcuq_stream_t *s, mcuq_dma_t *dma)
{
    for (int32_t p = 0; p < s->parts; p++)
        mcuq_dma_wait(&dma[p]);
}

/* the work on one tile: units [first, first + units) of the layer, whose parts are in
 * L1 at mcuq_stream_part(s, slot, p); each core takes its share of them */
typedef void (*mcuq_stream_fn)(const void *layer, const mcuq_stream_t *s, int32_t slot,
                               int32_t first, int32_t units, void *args);

static inline void mcuq_stream_run(const mcuq_stream_t *s, mcuq_stream_fn fn,
                                   const void *layer, void *args)
{
    const int32_t tiles = (s->units + s->tile_units - 1) / s->tile_units;
    const int32_t leader = mcuq_core_id() == 0;
    mcuq_dma_t dma[MCUQ_STREAM_PARTS];
    if (leader) {
        mcuq_stream_fetch(s, 0, dma);
        mcuq_stream_wait(s, dma);
    }
    mcuq_cluster_barrier();
    for (int32_t t = 0; t < tiles; t++) {
        const int32_t more = t + 1 < tiles;
        if (leader && more)
            mcuq_stream_fetch(s, t + 1, dma);
        const int32_t first = t * s->tile_units;
        const int32_t units = s->units - first < s->tile_units ? s->units - first : s->tile_units;
        fn(layer, s, t & 1, first, units, args);
        if (leader && more)
            mcuq_stream_wait(s, dma);
        mcuq_cluster_barrier();
    }
}

#endif

/* The loop of a streamed layer (mcuq_stream.h): core 0 starts the DMA of tile t + 1
 * into one L1 buffer while every core computes its share of tile t from the other;
 * a barrier ends each tile, after core 0 has waited for its transfer, so that a
 * buffer is refilled only when no core reads it any more. Tile 0 is fetched before
 * the loop (its transfer is not hidden).
 *
 * Everything a core needs for the whole layer (its share of a full tile and of the
 * last one, the kernel's parameters) is set up once, before the loop: per tile a core
 * only moves three pointers, so the tiles cost little beyond their barriers. */
#ifndef MCUQ_STREAM_LOOP_H
#define MCUQ_STREAM_LOOP_H

#include "mcuq_runtime.h"
#include "mcuq_stream.h"

static inline int32_t mcuq_stream_tile_units(const mcuq_stream_t *s, int32_t tile)
{
    const int32_t first = tile * s->tile_units;
    return s->units - first < s->tile_units ? s->units - first : s->tile_units;
}

/* the offsets of the parts in a tile of n units (unused parts: past the last one), and
 * the tile's bytes */
static inline int32_t mcuq_stream_offsets(const mcuq_stream_t *s, int32_t n, int32_t *offset)
{
    int32_t at = 0;
    for (int32_t p = 0; p < MCUQ_STREAM_PARTS; p++) {
        offset[p] = at;
        if (p < s->parts)
            at += (n * s->unit_bytes[p] + 7) & ~7;
    }
    return at;
}

/* The work on one tile: this core's units [lo, hi) of the layer, whose tile starts at
 * unit `base` and whose parts are in L1 at part[0 .. parts - 1]. */
typedef void (*mcuq_stream_fn)(void *layer, const uint8_t *const *part, int32_t base,
                               int32_t lo, int32_t hi, void *args);

/* fn is always a constant of the caller: with this inlined, so is fn */
static inline __attribute__((always_inline)) void mcuq_stream_run(const mcuq_stream_t *s,
                                                                  mcuq_stream_fn fn,
                                                                  void *layer, void *args)
{
    const int32_t tiles = (s->units + s->tile_units - 1) / s->tile_units;
    const int32_t last_units = mcuq_stream_tile_units(s, tiles - 1);
    const int32_t leader = mcuq_core_id() == 0;
    int32_t full[MCUQ_STREAM_PARTS], last[MCUQ_STREAM_PARTS];
    mcuq_stream_offsets(s, s->tile_units, full);
    const uint32_t last_bytes = (uint32_t)mcuq_stream_offsets(s, last_units, last);
    int32_t lo, hi, last_lo, last_hi;
    mcuq_split(s->tile_units, &lo, &hi);
    mcuq_split(last_units, &last_lo, &last_hi);
    mcuq_dma_t dma;
    if (leader) {
        mcuq_dma_start(&dma, s->buffer, s->source, tiles > 1 ? (uint32_t)s->tile_bytes : last_bytes);
        mcuq_dma_wait(&dma);
    }
    mcuq_cluster_barrier();
    const uint8_t *source = s->source;
    for (int32_t t = 0, base = 0; t < tiles; t++, base += s->tile_units) {
        const int32_t more = t + 1 < tiles;
        uint8_t *slot = s->buffer + (t & 1) * s->tile_bytes;
        source += s->tile_bytes;
        if (leader && more)
            mcuq_dma_start(&dma, s->buffer + ((t + 1) & 1) * s->tile_bytes, source,
                           t + 2 < tiles ? (uint32_t)s->tile_bytes : last_bytes);
        const int32_t *offset = more ? full : last;
        const uint8_t *part[MCUQ_STREAM_PARTS];
        for (int32_t p = 0; p < MCUQ_STREAM_PARTS; p++)
            part[p] = slot + offset[p];
        fn(layer, part, base, base + (more ? lo : last_lo), base + (more ? hi : last_hi), args);
        if (leader && more)
            mcuq_dma_wait(&dma);
        mcuq_cluster_barrier();
    }
}

#endif

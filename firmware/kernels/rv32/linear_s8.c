/* Linear layer, int8 (NumPy twin: mcuq/ops/linear.py, mcuq/ops/_matvec.py).
 *
 * float:  y = W x + b            (max(y, 0) with a fused ReLU)
 * int8:   the matvec core of matvec.h; each core computes its share of the groups of
 *         four output channels. Streamed (mcuq_linear_s8_streamed): the same groups,
 *         tile by tile, with their weights, biases and requantization read from the
 *         tile's L1 buffer (stream.h).
 */
#include "matvec.h"
#include "mcuq_runtime.h"
#include "stream.h"

void mcuq_linear_s8(const mcuq_linear_s8_t *p, const int8_t *input, int8_t *output)
{
    int32_t first, last;
    mcuq_split((p->out_features + 3) / 4, &first, &last);
    mcuq_matvec_s8(p, first, last, input, output);
}

typedef struct {
    const int8_t *input;
    int8_t *output;
    int32_t out_features;
} linear_s8_frame_t;

/* this core's channel groups of one tile, from the tile's L1 buffer: the layer as seen
 * from the tile's first channel */
static inline __attribute__((always_inline)) void linear_s8_tile(
    void *layer, const uint8_t *const *part, int32_t base, int32_t lo, int32_t hi, void *args)
{
    mcuq_linear_s8_t *tile = (mcuq_linear_s8_t *)layer;
    const linear_s8_frame_t *f = (const linear_s8_frame_t *)args;
    tile->weight = (const int8_t *)part[0];
    tile->bias = (const int32_t *)part[1];
    tile->mult = (const int32_t *)part[2];
    tile->shift = (const int32_t *)part[3];
    tile->out_features = f->out_features - 4 * base;
    mcuq_matvec_rows_s8(tile, lo - base, hi - base, f->input, f->output + 4 * base, 0);
}

void mcuq_linear_s8_streamed(const mcuq_linear_s8_t *p, const mcuq_stream_t *s,
                             const int8_t *input, int8_t *output)
{
    mcuq_linear_s8_t layer = *p; /* its weights move tile by tile */
    linear_s8_frame_t frame = {input, output, p->out_features};
    mcuq_stream_run(s, linear_s8_tile, &layer, &frame);
}

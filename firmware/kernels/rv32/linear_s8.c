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
} linear_s8_frame_t;

/* this core's share of one tile's channel groups, from the tile's L1 buffer: the layer
 * as seen from the tile's first channel */
static void linear_s8_tile(const void *layer, const mcuq_stream_t *s, int32_t slot,
                           int32_t first, int32_t units, void *args)
{
    mcuq_linear_s8_t tile = *(const mcuq_linear_s8_t *)layer;
    const linear_s8_frame_t *f = (const linear_s8_frame_t *)args;
    tile.weight = (const int8_t *)mcuq_stream_part(s, slot, 0);
    tile.bias = (const int32_t *)mcuq_stream_part(s, slot, 1);
    tile.mult = (const int32_t *)mcuq_stream_part(s, slot, 2);
    tile.shift = (const int32_t *)mcuq_stream_part(s, slot, 3);
    tile.out_features -= 4 * first;
    int32_t a, b;
    mcuq_split(units, &a, &b);
    mcuq_matvec_rows_s8(&tile, a, b, f->input, f->output + 4 * first, 0);
}

void mcuq_linear_s8_streamed(const mcuq_linear_s8_t *p, const mcuq_stream_t *s,
                             const int8_t *input, int8_t *output)
{
    linear_s8_frame_t frame = {input, output};
    mcuq_stream_run(s, linear_s8_tile, p, &frame);
}

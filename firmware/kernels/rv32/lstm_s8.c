/* LSTM layer, int8, one frame (NumPy twin: mcuq/ops/lstm.py).
 *
 * float:  i = sigmoid(gx_i + gh_i), f = sigmoid(gx_f + gh_f),
 *         g = tanh(gx_g + gh_g),    o = sigmoid(gx_o + gh_o)
 *         c' = f c + i g,   h' = o tanh(c')
 * int8:   gx, gh in Q12 (gates.h); gates in Q15; c int16 with C = cell_frac bits
 *         c' = clamp(rshift_round(f c, 15) + rshift_round(i g, 30 - C), -32768, 32767)
 *         t  = tanh_q15(c' in Q12)   (rshift_round(c', C - 12) if C >= 12, else c' 2^(12 - C))
 *         out = clamp(requant(o t, M_q30), -128, 127)       (o t in Q30, < 2^30)
 * Peepholes (optional): i and f add sat32(rshift_round(P_q c, C)) (P in Q12, c the old
 *         cell), o adds the same with the new cell; so o comes after the cell update.
 * Each hidden unit needs only its own four gate rows and its own cell; two units run
 * in one pass (mcuq_block_gates).
 * Each core takes its share of the hidden units (GreenWaves split LSTM neurons the
 * same way); all must have read the old h before any core overwrites it, hence
 * the barrier before each core copies its own units into the state.
 * Streamed (mcuq_lstm_s8_streamed): the same units, tile by tile, with their weights and
 * row records read from the tile's L1 buffer (stream.h).
 */
#include <string.h>

#include "gates.h"
#include "mcuq_lstm.h"
#include "mcuq_runtime.h"
#include "stream.h"

/* a peephole term in Q12: P (Q12) times c (C fraction bits), int64, saturated */
static inline int32_t peephole_q12(int32_t p, int16_t c, int32_t cell_frac)
{
    return mcuq_sat32(mcuq_rshift_round64((int64_t)p * c, cell_frac));
}

/* units j .. j + units - 1 (units = 1 or 2, a constant after inlining, so that the gate
 * sums of a pair stay in registers); `peep` 0 inlines a form without peephole code. The
 * weights and row records of p begin at unit `base` (0, or a streamed tile's first unit). */
static inline __attribute__((always_inline)) void lstm_s8_block(
    const mcuq_lstm_s8_t *p, const int8_t *input, const int8_t *h, int16_t *c, int8_t *output,
    int32_t block, int32_t units, const int32_t *peep, int32_t base)
{
    const mcuq_gates_s8_t *g = &p->gates;
    const int32_t hid = g->hidden, cf = p->cell_frac;
    const int32_t up = cf < MCUQ_Q_GATE ? MCUQ_Q_GATE - cf : 0, down = cf - MCUQ_Q_GATE + up;
    int32_t gx[8], gh[8];
    mcuq_block_sums_s8(g, 4, block - base, units, input, h, gx, gh);
#pragma GCC unroll 2
    for (int32_t u = 0; u < units; u++) {
        const int32_t j = block + u;
        int32_t pre[4];
#pragma GCC unroll 4
        for (int32_t gate = 0; gate < 4; gate++) {
            pre[gate] = mcuq_gate_of(mcuq_row_record(g, 4, gate, j - base), gx[4 * u + gate],
                                     gh[4 * u + gate]);
        }
        if (peep) { /* p_i c and p_f c, from the old cell */
            pre[0] = mcuq_gate_sum(pre[0], peephole_q12(peep[j], c[j], cf));
            pre[1] = mcuq_gate_sum(pre[1], peephole_q12(peep[hid + j], c[j], cf));
        }
        const int32_t i = mcuq_sigmoid_q15_of(pre[0]);
        const int32_t f = mcuq_sigmoid_q15_of(pre[1]);
        const int32_t gg = mcuq_tanh_q15_of(pre[2]);
        const int32_t cell = mcuq_mul16_rshift_round(f, c[j], 15) + mcuq_rshift_round(i * gg, 30 - cf);
        c[j] = (int16_t)mcuq_clamp32(cell, -32768, 32767);
        if (peep) /* p_o c', from the new cell */
            pre[3] = mcuq_gate_sum(pre[3], peephole_q12(peep[2 * hid + j], c[j], cf));
        const int32_t o = mcuq_sigmoid_q15_of(pre[3]);
        /* c in Q12: c 2^(12 - C) for C < 12, else rshift_round(c, C - 12), without a branch */
        const int32_t c_q12 = mcuq_rshift_round(c[j] * (1 << up), down);
        const int32_t t = mcuq_tanh_q15_of(c_q12);
        output[j] = (int8_t)mcuq_clamp32(mcuq_requant(o * t, p->q30_mult, p->q30_shift),
                                         -128, 127);
    }
}

/* this core's units [first, last), two per pass */
static inline __attribute__((always_inline)) void lstm_s8_units(
    const mcuq_lstm_s8_t *p, const int8_t *input, const int8_t *h, int16_t *c, int8_t *output,
    int32_t first, int32_t last, const int32_t *peep, int32_t base)
{
    int32_t block = first;
    for (; block + 2 <= last; block += 2)
        lstm_s8_block(p, input, h, c, output, block, 2, peep, base);
    if (block < last)
        lstm_s8_block(p, input, h, c, output, block, 1, peep, base);
}

void mcuq_lstm_s8(const mcuq_lstm_s8_t *p, const int8_t *input, int8_t *h, int16_t *c,
                  int8_t *output)
{
    /* a local copy: the int8 stores of the unit loop may alias anything, and would
     * otherwise make every field a reload */
    const mcuq_lstm_s8_t layer = *p;
    int32_t first, last;
    mcuq_split(layer.gates.hidden, &first, &last);
    if (layer.peephole)
        lstm_s8_units(&layer, input, h, c, output, first, last, layer.peephole, 0);
    else
        lstm_s8_units(&layer, input, h, c, output, first, last, 0, 0);
    mcuq_cluster_barrier();
    memcpy(h + first, output + first, (size_t)(last - first));
}

typedef struct {
    const int8_t *input, *h;
    int16_t *c;
    int8_t *output;
} lstm_s8_frame_t;

/* this core's units of one tile, from the tile's L1 buffer */
static inline __attribute__((always_inline)) void lstm_s8_tile(
    void *layer, const uint8_t *const *part, int32_t base, int32_t lo, int32_t hi, void *args)
{
    mcuq_lstm_s8_t *tile = (mcuq_lstm_s8_t *)layer;
    const lstm_s8_frame_t *f = (const lstm_s8_frame_t *)args;
    tile->gates.w_ih = (const int8_t *)part[0];
    tile->gates.w_hh = (const int8_t *)part[1];
    tile->gates.rows = (const int32_t *)part[2];
    if (tile->peephole)
        lstm_s8_units(tile, f->input, f->h, f->c, f->output, lo, hi, tile->peephole, base);
    else
        lstm_s8_units(tile, f->input, f->h, f->c, f->output, lo, hi, 0, base);
}

void mcuq_lstm_s8_streamed(const mcuq_lstm_s8_t *p, const mcuq_stream_t *s,
                           const int8_t *input, int8_t *h, int16_t *c, int8_t *output)
{
    mcuq_lstm_s8_t layer = *p; /* a local copy, as in mcuq_lstm_s8; its weights move */
    lstm_s8_frame_t frame = {input, h, c, output};
    mcuq_stream_run(s, lstm_s8_tile, &layer, &frame);  /* ends with a barrier: h is read */
    int32_t first, last;
    mcuq_split(p->gates.hidden, &first, &last);
    memcpy(h + first, output + first, (size_t)(last - first));
}

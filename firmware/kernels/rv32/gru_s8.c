/* GRU layer, int8, one frame (NumPy twin: mcuq/ops/gru.py, run_device).
 *
 * float:  r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z)
 *         n = tanh(gx_n + r * gh_n)
 *         h' = (1 - z) n + z h = n + z (h - n)
 * int8:   gx, gh in Q12 (gates.h); r, z, n in Q15
 *         r  = sigmoid_q15(gx_r + gh_r)
 *         z  = sigmoid_q15(gx_z + gh_z)
 *         n  = tanh_q15(gx_n + rshift_round(r * gh_n, 15))        (product in int64)
 *         hq = clamp(requant(h, M_h2q), -32768, 32767)   (h in Q15; a table of the 256 h)
 *         h' = n + rshift_round(z * (hq - n), 15)      (|z (hq - n)| < 2^31: int32)
 *         out = clamp(requant(h', M_q2h), -128, 127)
 * Reset-first form (linear_before_reset = 0): n = tanh(gx_n + R_n (r h) + b_hn), with
 *         rh = clamp(rshift_round(r * h, 15), -128, 127)     (int8, h's scale: 0 <= r <= 1)
 *         gh_n = requant(R_n_q rh + b_hn_q, M_hh_n)          (Q12)
 *         n = tanh_q15(gx_n + gh_n)
 *   Every unit's n needs all of r h, so it runs in two phases: each core writes r h, z
 *   and gx_n of its units to the layer's scratch, all cores wait once, then each computes
 *   R_n (r h) and h' for its units (the n row read at stride 3 from the interleaved
 *   weights; phase 1 also computes the unused R_n h, which keeps one gate routine).
 * Each hidden unit needs only its own three gate rows, so no scratch memory;
 * two units run in one pass (mcuq_block_gates).
 * Each core takes its share of the hidden units (GreenWaves split LSTM neurons the
 * same way); all must have read the old h before any core overwrites it, hence
 * the barrier before each core copies its own units into the state.
 * Streamed (mcuq_gru_s8_streamed, PyTorch's form): the same units, tile by tile, with
 * their weights and row records read from the tile's L1 buffer (stream.h).
 */
#include <string.h>

#include "gates.h"
#include "mcuq_gru.h"
#include "stream.h"
#include "mcuq_runtime.h"

/* h' from z and n (Q15) and the old h (int8), as int8 */
static inline int8_t gru_s8_update(const mcuq_gru_s8_t *p, int8_t h, int32_t z, int32_t n)
{
    const int32_t hq = p->h2q[h + 128]; /* the export's table of the requantization below */
    const int32_t h_new = n + mcuq_rshift_round(z * (hq - n), 15);
    return (int8_t)mcuq_clamp32(mcuq_requant(h_new, p->q2h_mult, p->q2h_shift), -128, 127);
}

__attribute__((noinline)) static void gru_s8_reset_first(const mcuq_gru_s8_t *p, const int8_t *input, int8_t *h,
                               int8_t *output, uint8_t *work)
{
    const mcuq_gates_s8_t *g = &p->gates;
    const int32_t hid = g->hidden;
    int8_t *rh = (int8_t *)work;
    int32_t *zs = (int32_t *)(work + (hid + 3) / 4 * 4), *gxn = zs + hid;
    int32_t first, last;
    mcuq_split(hid, &first, &last);
    for (int32_t block = first; block < last; block += 2) {
        const int32_t units = last - block < 2 ? 1 : 2;
        int32_t gxs[6], ghs[6];
        mcuq_block_gates(g, 3, block, units, input, h, gxs, ghs);
        for (int32_t u = 0; u < units; u++) {
            const int32_t j = block + u, *gx = gxs + 3 * u, *gh = ghs + 3 * u;
            const int32_t r = mcuq_sigmoid_q15_of(mcuq_gate_sum(gx[0], gh[0]));
            zs[j] = mcuq_sigmoid_q15_of(mcuq_gate_sum(gx[1], gh[1]));
            gxn[j] = gx[2];
            rh[j] = (int8_t)mcuq_clamp32(mcuq_mul16_rshift_round(r, h[j], 15), -128, 127);
        }
    }
    mcuq_cluster_barrier(); /* every core's r h is written */
    for (int32_t j = first; j < last; j++) {
        /* unit j's n row: row 2 of its interleaved block of three */
        const int32_t *row = mcuq_row_record(g, 3, 2, j);
        const int32_t acc = row[MCUQ_ROW_B_HH]
                            + mcuq_dot_row_s8(g->w_hh + j * MCUQ_ROW_S8(hid) * 3, 3, 2, rh, hid);
        const int32_t gh_n = mcuq_requant_hh(row, acc);
        const int32_t n = mcuq_tanh_q15_of(mcuq_gate_sum(gxn[j], gh_n));
        output[j] = gru_s8_update(p, h[j], zs[j], n);
    }
    /* no other core reads this core's h after the barrier: update it at once */
    memcpy(h + first, output + first, (size_t)(last - first));
}

/* units j .. j + units - 1 of the default form (units = 1 or 2, a constant after
 * inlining); the weights and row records of p begin at unit `base` (0, or a streamed
 * tile's first unit) */
static inline __attribute__((always_inline)) void gru_s8_block(const mcuq_gru_s8_t *p,
                                                               const int8_t *input,
                                                               const int8_t *h, int8_t *output,
                                                               int32_t block, int32_t units,
                                                               int32_t base)
{
    const mcuq_gates_s8_t *g = &p->gates;
    int32_t sxs[6], shs[6];
    mcuq_block_sums_s8(g, 3, block - base, units, input, h, sxs, shs);
#pragma GCC unroll 2
    for (int32_t u = 0; u < units; u++) {
        const int32_t j = block + u, *sx = sxs + 3 * u, *sh = shs + 3 * u;
        const int32_t r = mcuq_sigmoid_q15_of(mcuq_gate_of(mcuq_row_record(g, 3, 0, j - base),
                                                           sx[0], sh[0]));
        const int32_t z = mcuq_sigmoid_q15_of(mcuq_gate_of(mcuq_row_record(g, 3, 1, j - base),
                                                           sx[1], sh[1]));
        const int32_t *row_n = mcuq_row_record(g, 3, 2, j - base);
        const int32_t rh = mcuq_q15_scale(r, mcuq_requant_hh(row_n, sh[2]));
        const int32_t n = mcuq_tanh_q15_of(mcuq_gate_sum(mcuq_requant_ih(row_n, sx[2]), rh));
        output[j] = gru_s8_update(p, h[j], z, n);
    }
}

/* units [first, last), two per pass */
static inline __attribute__((always_inline)) void gru_s8_units(const mcuq_gru_s8_t *p,
                                                               const int8_t *input,
                                                               const int8_t *h, int8_t *output,
                                                               int32_t first, int32_t last,
                                                               int32_t base)
{
    int32_t block = first;
    for (; block + 2 <= last; block += 2)
        gru_s8_block(p, input, h, output, block, 2, base);
    if (block < last)
        gru_s8_block(p, input, h, output, block, 1, base);
}

void mcuq_gru_s8(const mcuq_gru_s8_t *p, const int8_t *input, int8_t *h, int8_t *output,
                 uint8_t *work)
{
    if (!p->linear_before_reset) {
        gru_s8_reset_first(p, input, h, output, work);
        return;
    }
    /* a local copy: the int8 stores of the unit loop may alias anything, and would
     * otherwise make every field a reload */
    const mcuq_gru_s8_t layer = *p;
    int32_t first, last;
    mcuq_split(layer.gates.hidden, &first, &last);
    gru_s8_units(&layer, input, h, output, first, last, 0);
    mcuq_cluster_barrier();
    memcpy(h + first, output + first, (size_t)(last - first));
}

typedef struct {
    const int8_t *input, *h;
    int8_t *output;
} gru_s8_frame_t;

/* this core's units of one tile, from the tile's L1 buffer */
static inline __attribute__((always_inline)) void gru_s8_tile(
    void *layer, const uint8_t *const *part, int32_t base, int32_t lo, int32_t hi, void *args)
{
    mcuq_gru_s8_t *tile = (mcuq_gru_s8_t *)layer;
    const gru_s8_frame_t *f = (const gru_s8_frame_t *)args;
    tile->gates.w_ih = (const int8_t *)part[0];
    tile->gates.w_hh = (const int8_t *)part[1];
    tile->gates.rows = (const int32_t *)part[2];
    gru_s8_units(tile, f->input, f->h, f->output, lo, hi, base);
}

void mcuq_gru_s8_streamed(const mcuq_gru_s8_t *p, const mcuq_stream_t *s, const int8_t *input,
                          int8_t *h, int8_t *output)
{
    mcuq_gru_s8_t layer = *p; /* a local copy, as in mcuq_gru_s8; its weights move */
    gru_s8_frame_t frame = {input, h, output};
    mcuq_stream_run(s, gru_s8_tile, &layer, &frame);  /* ends with a barrier: h is read */
    int32_t first, last;
    mcuq_split(p->gates.hidden, &first, &last);
    memcpy(h + first, output + first, (size_t)(last - first));
}

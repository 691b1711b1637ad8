/* The host engine (mcuq/engine.py): a generated model compiled for the build machine as a
 * shared library, which mcuq's simulate, eval, top1 and robustness call instead of the
 * NumPy simulator. It adds no arithmetic of its own: each call runs the model's API on
 * frames the caller gives, in C memory order, as the firmware would.
 *
 * Built with -DMCUQ_MODEL=<name> -DMCUQ_MACRO=<NAME> -DMCUQ_MODEL_HEADER="<name>.h" and
 * -DMCUQ_SEQUENCE=1 for a model with the sequence API (a reverse recurrent layer). */
#include <stdint.h>

#define MCUQ_CAT_(a, b) a##b
#define MCUQ_CAT(a, b) MCUQ_CAT_(a, b)
#define MODEL(fn) MCUQ_CAT(MCUQ_MODEL, fn)
#define MACRO(v) MCUQ_CAT(MCUQ_MACRO, v)

#include MCUQ_MODEL_HEADER

int32_t mcuq_engine_input_bytes(void) { return MACRO(_INPUT_BYTES); }
int32_t mcuq_engine_output_bytes(void) { return MACRO(_OUTPUT_BYTES); }

void mcuq_engine_init(void) { MODEL(_init)(); }

/* One sequence of `frames` frames from a cleared state: output frame t is what the model
 * gives for input frame t. Returns 0, or -1 when a sequence model cannot take that many
 * frames. Buffers are the caller's, aligned as the model header asks. */
int32_t mcuq_engine_run(const void *input, int32_t frames, void *output)
{
    MODEL(_reset)();
#if MCUQ_SEQUENCE
    return MODEL(_run_sequence)((const MODEL(_input_t) *)input, frames,
                                (MODEL(_output_t) *)output);
#else
    const uint8_t *x = (const uint8_t *)input;
    uint8_t *y = (uint8_t *)output;
    for (int32_t t = 0; t < frames; t++)
        MODEL(_run_frame)((const MODEL(_input_t) *)(x + (intptr_t)t * MACRO(_INPUT_BYTES)),
                          (MODEL(_output_t) *)(y + (intptr_t)t * MACRO(_OUTPUT_BYTES)));
    return 0;
#endif
}

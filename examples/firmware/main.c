/* An example firmware around an mcuq export named `model` (mcuq export ... --name model):
 * it makes FRAMES frames of float input, converts each to the model's input format with
 * model_quantize_input, runs the model through its C API, and prints every output
 * frame's bytes as hex and its first value as float. A real firmware would read a
 * microphone or camera instead of test_signal() and act on the output.
 *
 *   frame <k> <hex bytes of the output frame, in C memory order>
 *   y0 <k> <first output value as float, %.9g>
 *   done <frames>
 *
 * The input is exactly reproducible off the device (tests/test_firmware_example.py
 * computes the same floats and checks every byte against `mcuq simulate`). */
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#ifndef FRAMES
#define FRAMES 8
#endif

/* float input in [-2, 2) in steps of 1/1024 (exact in float), from a 32-bit LCG */
static uint32_t seed = 12345u;
static void test_signal(float *x, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((int32_t)(seed >> 20) - 2048) / 1024.0f;
    }
}

static void print_frame(int32_t k, const model_output_t *q)
{
    const uint8_t *bytes = (const uint8_t *)q;
    printf("frame %ld ", (long)k);
    for (int32_t i = 0; i < MODEL_OUTPUT_BYTES; i++)
        printf("%02x", bytes[i]);
    printf("\n");
    float y[MODEL_OUTPUT_SIZE];
    model_dequantize_output(q, y);
    printf("y0 %ld %.9g\n", (long)k, (double)y[0]);
}

static float x[MODEL_INPUT_SIZE];

#ifdef MODEL_MAX_FRAMES
/* a sequence model (it reads its input backwards) takes the whole sequence at once */
#if FRAMES > MODEL_MAX_FRAMES
#error "FRAMES is more than the model's MODEL_MAX_FRAMES: export it with longer sequences"
#endif
static model_input_t input[FRAMES][MODEL_INPUT_SIZE]
    __attribute__((aligned(MODEL_BUFFER_ALIGNMENT)));
static model_output_t output[FRAMES][MODEL_OUTPUT_SIZE]
    __attribute__((aligned(MODEL_BUFFER_ALIGNMENT)));

int main(void)
{
    model_init();
    for (int32_t k = 0; k < FRAMES; k++) {
        test_signal(x, MODEL_INPUT_SIZE);
        model_quantize_input(x, input[k]);
    }
    if (model_run_sequence(&input[0][0], FRAMES, &output[0][0]) != 0)
        return 1;
    for (int32_t k = 0; k < FRAMES; k++)
        print_frame(k, output[k]);
    printf("done %d\n", FRAMES);
    return 0;
}
#else
/* a streaming model: one call per frame, the recurrent state kept in between */
static model_input_t input[MODEL_INPUT_SIZE] __attribute__((aligned(MODEL_BUFFER_ALIGNMENT)));
static model_output_t output[MODEL_OUTPUT_SIZE] __attribute__((aligned(MODEL_BUFFER_ALIGNMENT)));

int main(void)
{
    model_init();
    for (int32_t k = 0; k < FRAMES; k++) {
        test_signal(x, MODEL_INPUT_SIZE);
        model_quantize_input(x, input);
        model_run_frame(input, output);
        print_frame(k, output);
    }
    printf("done %d\n", FRAMES);
    return 0;
}
#endif

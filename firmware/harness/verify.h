/* The verification harness around a generated model (mcuq verify). The generated
 * verify_data.c supplies the input frames and the calls into the model. */
#ifndef MCUQ_VERIFY_H
#define MCUQ_VERIFY_H

#include <stdint.h>

extern const int32_t mcuq_verify_frames;
extern const int32_t mcuq_verify_input_bytes;   /* per frame */
/* bytes from one frame's start to the next: input_bytes rounded up to 8 for a streaming
 * model (every frame aligned), input_bytes for a sequence model (frames back to back) */
extern const int32_t mcuq_verify_input_stride;
extern const int32_t mcuq_verify_output_bytes;  /* per frame */
extern const uint8_t mcuq_verify_input[];
/* 1: a sequence model (run_sequence over all frames at once), 0: a streaming one */
extern const int32_t mcuq_verify_sequence;

void mcuq_verify_init(void);
void mcuq_verify_run_frame(const void *input, void *output);
int mcuq_verify_run_sequence(const void *input, int32_t frames, void *output);
/* per-layer dump, called by the model when built with -DMCUQ_TRACE=mcuq_trace */
void mcuq_trace(int layer, const char *name, const void *data, int bytes);

#endif

/* mcuq verify: run every frame of the verification input through the model (a sequence
 * model: all of them in one run_sequence call) and print each output frame (and, in a
 * per-layer build, each layer's output) as hex lines:
 *   F <frame> <instructions> <hex>     model output of one frame
 *   L <frame> <layer> <hex>            one layer's output (trace builds)
 *   END <frames>
 * mcuq compares them byte for byte with the simulator.
 * Built with -DMCUQ_BENCH (mcuq bench), the layer hook instead executes a marker
 * instruction that the instruction-counting QEMU plugin snapshots (firmware/bench). */
#include <stdio.h>

#include "mcuq_port.h"
#include "verify.h"

#define MAX_OUTPUT 65536

static int32_t current_frame;
static uint8_t output[MAX_OUTPUT] __attribute__((aligned(8)));

static void print_hex(const uint8_t *data, int bytes)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[129];
    int n = 0;
    for (int i = 0; i < bytes; i++) {
        const uint8_t v = data[i];
        chunk[n++] = digits[v >> 4];
        chunk[n++] = digits[v & 15];
        if (n == 128 || i == bytes - 1) {
            chunk[n] = 0;
            fputs(chunk, stdout);
            n = 0;
        }
    }
    fputc('\n', stdout);
}

#if defined(MCUQ_BENCH) && defined(MCUQ_PORT_COUNTS)
/* a port that times its cores itself (rtl): one line per layer,
 *   C <frame> <layer> <critical cycles> <critical instructions> <cycles>/<instructions> per core
 *     <bytes moved by DMA> */
static void print_counts(int layer)
{
    mcuq_port_counts_t c;
    mcuq_port_take_counts(&c);
    printf("C %ld %d %lu %lu", (long)current_frame, layer, (unsigned long)c.critical_cycles,
           (unsigned long)c.critical_instructions);
    for (int i = 0; i < MCUQ_PORT_COUNTS; i++)
        printf(" %lu/%lu", (unsigned long)c.cycles[i], (unsigned long)c.instructions[i]);
    printf(" %lu\n", (unsigned long)c.dma_bytes);
}
#define MARK_FRAME()                                                                     \
    do {                                                                                 \
        mcuq_port_counts_t discard;                                                      \
        mcuq_port_take_counts(&discard);                                                 \
    } while (0)
#elif defined(MCUQ_BENCH)
/* addi x0, x0, 0x7a0 / 0x7a1: no-ops the plugin recognises (frame start, layer end) */
#define MARK_FRAME() __asm__ volatile(".4byte 0x7a000013" ::: "memory")
#define MARK_LAYER() __asm__ volatile(".4byte 0x7a100013" ::: "memory")
#else
#define MARK_FRAME() ((void)0)
#endif

void mcuq_trace(int layer, const char *name, const void *data, int bytes)
{
    (void)name;
#if defined(MCUQ_BENCH) && defined(MCUQ_PORT_COUNTS)
    (void)data;
    (void)bytes;
    print_counts(layer);
#elif defined(MCUQ_BENCH)
    (void)layer;
    (void)data;
    (void)bytes;
    MARK_LAYER();
#else
    if (mcuq_verify_sequence) { /* the layer's whole sequence: one line per frame */
        const int32_t per_frame = bytes / mcuq_verify_frames;
        for (int32_t f = 0; f < mcuq_verify_frames; f++) {
            printf("L %ld %d ", (long)f, layer);
            print_hex((const uint8_t *)data + f * per_frame, per_frame);
        }
        return;
    }
    printf("L %ld %d ", (long)current_frame, layer);
    print_hex((const uint8_t *)data, bytes);
#endif
}

/* a sequence model: every frame in one call; the instructions are shared out evenly */
static int run_sequence(void)
{
    if (mcuq_verify_output_bytes * mcuq_verify_frames > MAX_OUTPUT) {
        printf("ERROR the sequence's output is larger than the harness buffer\n");
        return 2;
    }
    MARK_FRAME();
    const uint32_t start = mcuq_port_instructions();
    if (mcuq_verify_run_sequence(mcuq_verify_input, mcuq_verify_frames, output) != 0) {
        printf("ERROR run_sequence refused %ld frames\n", (long)mcuq_verify_frames);
        return 2;
    }
    const uint32_t used = mcuq_port_instructions() - start;
    for (current_frame = 0; current_frame < mcuq_verify_frames; current_frame++) {
        printf("F %ld %lu ", (long)current_frame, (unsigned long)(used / mcuq_verify_frames));
        print_hex(output + current_frame * mcuq_verify_output_bytes, mcuq_verify_output_bytes);
    }
    printf("END %ld\n", (long)mcuq_verify_frames);
    return 0;
}

int main(void)
{
    if (mcuq_verify_output_bytes > MAX_OUTPUT) {
        printf("ERROR output larger than the harness buffer\n");
        return 2;
    }
    mcuq_port_init();
    mcuq_verify_init();
    if (mcuq_verify_sequence)
        return run_sequence();
    for (current_frame = 0; current_frame < mcuq_verify_frames; current_frame++) {
        const uint8_t *input = mcuq_verify_input + current_frame * mcuq_verify_input_stride;
        MARK_FRAME();
        const uint32_t start = mcuq_port_instructions();
        mcuq_verify_run_frame(input, output);
        const uint32_t used = mcuq_port_instructions() - start;
        printf("F %ld %lu ", (long)current_frame, (unsigned long)used);
        print_hex(output, mcuq_verify_output_bytes);
    }
    printf("END %ld\n", (long)mcuq_verify_frames);
    return 0;
}

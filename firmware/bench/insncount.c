/* QEMU TCG plugin (plugin API v1, QEMU 7.2): executed instructions per hart, with
 * snapshots at marker instructions, for `mcuq bench`.
 *
 * Counting is per translation block (a block left early by a trap counts whole),
 * per vCPU (= hart). A marker is `addi x0, x0, imm` with imm in 0x7a0..0x7af, an
 * architectural no-op that the bench harness places at frame starts (0x7a0) and after
 * each layer (0x7a1); when one executes, the plugin records every hart's count.
 * 0x7a2 and 0x7a3 bracket what a hart's count leaves out (the qemu port's DMA copy, which
 * a cluster DMA does beside the cores): at 0x7a3 the hart's count goes back to what it
 * was at 0x7a2 (blocks are counted whole on entry, so a few instructions of the blocks
 * around the pair are lost or kept).
 * At exit it writes "mark <imm> <hart0> <hart1> ..." lines and "total ..." to the log
 * (qemu -d plugin -D <file>).
 * Debian ships no qemu-plugin.h, so the few declarations used are written here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

#define MAX_HARTS 16
#define MARK_OPCODE 0x00000013u /* addi x0, x0, imm: rd = rs1 = 0 */
#define MARK_FIRST 0x7a0u
#define MARK_LAST 0x7afu
#define PAUSE 0x7a2u
#define RESUME 0x7a3u

typedef struct {
    uint32_t imm;
    uint64_t count[MAX_HARTS];
} mark_t;

static uint64_t count[MAX_HARTS], paused_at[MAX_HARTS];
static mark_t *marks;
static size_t n_marks, cap_marks;

static void tb_exec(unsigned int vcpu, void *udata)
{
    if (vcpu < MAX_HARTS)
        count[vcpu] += (uintptr_t)udata;
}

static void mark_exec(unsigned int vcpu, void *udata)
{
    const uint32_t imm = (uint32_t)(uintptr_t)udata;
    if (imm == PAUSE || imm == RESUME) {
        if (vcpu < MAX_HARTS && imm == PAUSE)
            paused_at[vcpu] = count[vcpu];
        else if (vcpu < MAX_HARTS)
            count[vcpu] = paused_at[vcpu];
        return;
    }
    if (n_marks == cap_marks) {
        cap_marks = cap_marks ? 2 * cap_marks : 1024;
        marks = realloc(marks, cap_marks * sizeof *marks);
        if (!marks)
            abort();
    }
    marks[n_marks].imm = (uint32_t)(uintptr_t)udata;
    memcpy(marks[n_marks].count, count, sizeof count);
    n_marks++;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (qemu_plugin_insn_size(insn) != 4)
            continue;
        uint32_t word;
        memcpy(&word, qemu_plugin_insn_data(insn), 4);
        const uint32_t imm = word >> 20;
        if ((word & 0xfffffu) == MARK_OPCODE && imm >= MARK_FIRST && imm <= MARK_LAST)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, mark_exec, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)imm);
    }
}

static void print_counts(const char *tag, uint32_t imm, const uint64_t *c)
{
    char line[32 + MAX_HARTS * 21];
    int len = snprintf(line, sizeof line, "%s %u", tag, (unsigned)imm);
    for (int h = 0; h < MAX_HARTS; h++)
        len += snprintf(line + len, sizeof line - (size_t)len, " %llu", (unsigned long long)c[h]);
    snprintf(line + len, sizeof line - (size_t)len, "\n");
    qemu_plugin_outs(line);
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    for (size_t i = 0; i < n_marks; i++)
        print_counts("mark", marks[i].imm, marks[i].count);
    print_counts("total", 0, count);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}

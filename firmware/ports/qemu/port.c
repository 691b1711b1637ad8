/* RV32 QEMU port: trap reporting (anything unexpected ends the run with a message). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

void mcuq_port_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    printf("TRAP mcause=0x%08lx mepc=0x%08lx mtval=0x%08lx\n", (unsigned long)mcause,
           (unsigned long)mepc, (unsigned long)mtval);
    _exit(128 + (int)(mcause & 0x1f));
}

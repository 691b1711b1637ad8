/* CV32E40P testbench port: stdout is the testbench's print register, _exit its exit
 * register; trap reporting. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define RTL_PRINT ((volatile uint32_t *)0x10000000u)
#define RTL_EXIT ((volatile uint32_t *)0x20000004u)

static int rtl_putc(char c, FILE *file)
{
    (void)file;
    *RTL_PRINT = (uint8_t)c;
    return (uint8_t)c;
}

static FILE rtl_stdout = FDEV_SETUP_STREAM(rtl_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &rtl_stdout;
FILE *const stderr = &rtl_stdout;

void _exit(int status)
{
    *RTL_EXIT = (uint32_t)status;
    for (;;)
        ;
}

void mcuq_port_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    printf("TRAP mcause=0x%08lx mepc=0x%08lx mtval=0x%08lx\n", (unsigned long)mcause,
           (unsigned long)mepc, (unsigned long)mtval);
    _exit(128 + (int)(mcause & 0x1f));
}

# The QEMU virt board (RV32, FP16) for make: compilers, flags and the board's start-up
# files, for a firmware that runs a model on qemu-system-riscv32 -machine virt.
#   include path/to/mcuq/ports/qemu/port.mk
#   $(QEMU_CC) $(QEMU_CFLAGS) ... -c        compile
#   $(QEMU_LD) $(QEMU_LDFLAGS) -T $(QEMU_LDSCRIPT) $(QEMU_STARTUP) objects...   link
# clang-16 compiles (GCC 12 has no _Float16 for RISC-V); gcc links with picolibc and
# semihosting (stdout and exit status through QEMU). No _z* extension in gcc's -march:
# it would select the rv64 multilib.
QEMU_PORT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
QEMU_CC ?= clang-16
QEMU_LD ?= riscv64-unknown-elf-gcc
QEMU_CFLAGS ?= --target=riscv32-unknown-elf -march=rv32imafc_zfh -mabi=ilp32f \
	-mcmodel=medany -O2 -std=c99 -Wall -Werror -Xclang -ffloat16-excess-precision=none \
	-isystem /usr/lib/picolibc/riscv64-unknown-elf/include
QEMU_LDFLAGS ?= -march=rv32imafc -mabi=ilp32f -misa-spec=2.2 -mcmodel=medany \
	--specs=picolibc.specs --oslib=semihost -nostartfiles -Wl,--no-warn-rwx-segments
QEMU_BOARD_SRCS := $(QEMU_PORT_DIR)/port.c
QEMU_STARTUP := $(QEMU_PORT_DIR)/start.S
QEMU_LDSCRIPT := $(QEMU_PORT_DIR)/virt.ld

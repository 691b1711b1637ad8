# The QEMU virt board (RV32, FP16) for CMake:
#   cmake -DCMAKE_TOOLCHAIN_FILE=path/to/mcuq/ports/qemu/toolchain.cmake ...
# The same compilers and flags as port.mk: clang-16 compiles (GCC 12 has no _Float16 for
# RISC-V), riscv64-unknown-elf-gcc links with picolibc and semihosting. An executable
# adds the board's start-up files: start.S, port.c, and `-T virt.ld` as a link option.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER clang-16)
set(CMAKE_ASM_COMPILER clang-16)
set(CMAKE_C_COMPILER_TARGET riscv32-unknown-elf)
set(CMAKE_ASM_COMPILER_TARGET riscv32-unknown-elf)
set(CMAKE_AR riscv64-unknown-elf-ar)
set(CMAKE_RANLIB riscv64-unknown-elf-ranlib)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-march=rv32imafc_zfh -mabi=ilp32f -mcmodel=medany -O2 \
-Xclang -ffloat16-excess-precision=none -isystem /usr/lib/picolibc/riscv64-unknown-elf/include")
set(CMAKE_ASM_FLAGS_INIT "-march=rv32imafc_zfh -mabi=ilp32f -mcmodel=medany")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-march=rv32imafc -mabi=ilp32f -misa-spec=2.2 -mcmodel=medany \
--specs=picolibc.specs --oslib=semihost -nostartfiles -Wl,--no-warn-rwx-segments")
# clang's compile flags mean nothing to gcc: link with the link flags only
set(CMAKE_C_LINK_EXECUTABLE
    "riscv64-unknown-elf-gcc <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>")
set(MCUQ_PORT qemu CACHE STRING "mcuq runtime port")

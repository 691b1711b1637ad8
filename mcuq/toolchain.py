"""The compilers and emulator that `mcuq verify` needs, with what to install when missing."""
from __future__ import annotations

import shutil
from pathlib import Path

from mcuq.errors import McuqError

PICOLIBC_INCLUDE = Path("/usr/lib/picolibc/riscv64-unknown-elf/include")

# (command or path, Debian package)
NEEDS = {
    "host": [("gcc", "gcc"), ("make", "make")],
    "qemu": [("make", "make"), ("clang-16", "clang-16"),
             ("riscv64-unknown-elf-gcc", "gcc-riscv64-unknown-elf"),
             (str(PICOLIBC_INCLUDE), "picolibc-riscv64-unknown-elf"),
             ("qemu-system-riscv32", "qemu-system-misc")],
    "rtl": [("make", "make"), ("clang-19", "clang-19"), ("ld.lld-19", "lld-19"),
            ("riscv64-unknown-elf-objcopy", "binutils-riscv64-unknown-elf"),
            ("riscv64-unknown-elf-gcc", "gcc-riscv64-unknown-elf"),
            (str(PICOLIBC_INCLUDE), "picolibc-riscv64-unknown-elf"),
            ("verilator", "verilator")],
}

QEMU_COMMAND = [
    "qemu-system-riscv32", "-machine", "virt", "-cpu", "rv32,Zfh=true", "-bios", "none",
    # exact, repeatable instruction counts
    "-icount", "shift=0",
    "-display", "none", "-serial", "none", "-monitor", "none",
    # semihosting: the guest's stdout on ours, its exit status as QEMU's
    "-chardev", "stdio,id=sh0", "-semihosting-config", "enable=on,target=native,chardev=sh0",
]


def check_toolchain(target: str) -> None:
    missing = []
    for tool, package in NEEDS[target]:
        found = Path(tool).exists() if tool.startswith("/") else shutil.which(tool)
        if not found:
            missing.append(package)
    if missing:
        packages = " ".join(dict.fromkeys(missing))
        raise McuqError(f"the {target} target needs Debian packages that are missing: {packages}; "
                        f"install them with: sudo apt-get install -y {packages} "
                        "(or run `make toolchain` in the mcuq checkout)")


def qemu_command(elf: str, harts: int = 1) -> list[str]:
    """QEMU running `elf`, a name relative to the run folder (QEMU splits some option
    values at commas, so no user path goes here)."""
    return QEMU_COMMAND + ["-smp", str(harts), "-kernel", elf]

"""The CV32E40P core's RTL as a program: a Verilator model of OpenHW's CV32E40P (the open
successor of the RI5CY cores in GAP chips, with the CORE-V XCV SIMD, post-increment
load and hardware-loop extensions), built once from the pinned PyPI wheel
`pythondata-cpu-cv32e40p` and cached; `mcuq verify|bench --target rtl` run the generated
C on it and read real cycle counts from the core's counters.

The model is the wheel's example testbench: 4 MiB of single-cycle RAM at 0, boot at
0x180, a byte stored to 0x10000000 printed, a word stored to 0x20000004 ends the run
(its value the exit code, printed as "EXIT SUCCESS" / "EXIT FAILURE: n"). Two changes to
the wheel's sources are needed (../shared/xcv-reference): the testbench still passes the
v1 parameter names, and the FPU (fpnew) is not in the wheel, so its wrapper is a stub
that never answers: the model has no FPU, and fp16 layers cannot run on it.
"""
from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mcuq.errors import McuqError

WHEEL = "pythondata-cpu-cv32e40p==1.0.1.post1909"
VERILATOR_FLAGS = ["--binary", "--timing", "-j", "2", "-O3", "--x-assign", "fast",
                   "--x-initial", "fast", "--noassert", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                   "-Wno-BLKANDNBLK", "--top-module", "tb_top", "-GPULP_XPULP=1"]

FP_STUB = """\
// No FPU in this model: the wheel lacks the fpnew submodule. The wrapper never grants.
module cv32e40p_fp_wrapper import cv32e40p_apu_core_pkg::*; #(
    parameter FPU_ADDMUL_LAT = 0, parameter FPU_OTHERS_LAT = 0) (
  input logic clk_i, input logic rst_ni, input logic apu_req_i, output logic apu_gnt_o,
  input logic [APU_NARGS_CPU-1:0][31:0] apu_operands_i, input logic [APU_WOP_CPU-1:0] apu_op_i,
  input logic [APU_NDSFLAGS_CPU-1:0] apu_flags_i, output logic apu_rvalid_o,
  output logic [31:0] apu_rdata_o, output logic [APU_NUSFLAGS_CPU-1:0] apu_rflags_o);
  assign apu_gnt_o = '0; assign apu_rvalid_o = '0; assign apu_rdata_o = '0;
  assign apu_rflags_o = '0;
endmodule
"""


def wheel_sources() -> Path:
    try:
        import pythondata_cpu_cv32e40p as wheel
    except ImportError:
        raise McuqError(f"the rtl target needs the CV32E40P sources from PyPI; install them "
                        f"with: pip install '{WHEEL}' (or run `make venv` in the mcuq "
                        "checkout)") from None
    return Path(wheel.data_location)


def cache_dir() -> Path:
    """Where built models are kept: $MCUQ_CACHE/rtl, else ~/.cache/mcuq/rtl."""
    if os.environ.get("MCUQ_CACHE"):
        return Path(os.environ["MCUQ_CACHE"]) / "rtl"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcuq" / "rtl"


@functools.lru_cache(maxsize=None)
def _key(sources: Path) -> str:
    """The cache key: the wheel version, the Verilator version and the build recipe."""
    version = subprocess.run(["verilator", "--version"], capture_output=True, text=True).stdout
    return hashlib.sha256("\n".join([WHEEL, version, FP_STUB, " ".join(VERILATOR_FLAGS),
                                     str(sources)]).encode()).hexdigest()[:16]


def simulator(log=None) -> Path:
    """The built Verilator model (tb_top), building it on first use (about a minute on
    two cores); concurrent callers wait for one build."""
    if not shutil.which("verilator"):
        raise McuqError("the rtl target needs Verilator; install it with: sudo apt-get install "
                        "-y verilator (or run `make toolchain` in the mcuq checkout)")
    sources = wheel_sources()
    home = cache_dir() / _key(sources)
    binary = home / "Vtb_top"
    if binary.is_file():
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file():
            return binary
        if log:
            log("building the CV32E40P model with Verilator (once, about a minute)")
        _build(sources, home)
    return binary


def _build(sources: Path, home: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="build-", dir=home))
    try:
        tb = work / "tb"
        shutil.copytree(sources / "example_tb" / "core", tb)
        subsystem = tb / "cv32e40p_tb_subsystem.sv"
        text = subsystem.read_text()
        # the example testbench still uses the v1 parameter names
        for old, new in (("PULP_XPULP", "COREV_PULP"), ("PULP_CLUSTER", "COREV_CLUSTER")):
            text = re.sub(rf"\.{old}(\s*)\(", rf".{new}\1(", text)
        subsystem.write_text(text)
        (work / "fp_stub.sv").write_text(FP_STUB)
        tb_sources = sorted(str(p) for p in tb.glob("*.sv") if p.name != "cv32e40p_fp_wrapper.sv")
        cmd = (["verilator"] + VERILATOR_FLAGS
               + ["-f", str(sources / "cv32e40p_manifest.flist"), str(work / "fp_stub.sv"),
                  str(tb / "include" / "perturbation_pkg.sv")] + tb_sources
               + ["-o", "Vtb_top", "--Mdir", str(work / "obj"), "-MAKEFLAGS", "OPT_FAST=-O2"])
        env = dict(os.environ, DESIGN_RTL_DIR=str(sources / "rtl"))
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
        built = work / "obj" / "Vtb_top"
        if result.returncode != 0 or not built.is_file():
            (home / "verilate.log").write_text(result.stdout + result.stderr)
            raise McuqError(f"building the CV32E40P model failed (log: {home / 'verilate.log'})")
        os.replace(built, home / "Vtb_top")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def hex_image(elf: Path) -> Path:
    """The program as the testbench loads it ($readmemh of a Verilog hex file)."""
    out = elf.with_suffix(".hex")
    result = subprocess.run(["riscv64-unknown-elf-objcopy", "-O", "verilog", elf.name, out.name],
                            capture_output=True, text=True, cwd=elf.parent)
    if result.returncode != 0:
        raise McuqError(f"objcopy of the RTL program failed: {result.stderr.strip()}")
    return out


def require_integer(qgraph, command: str) -> None:
    """The model has no FPU: refuse an export with fp16 layers, naming them."""
    fp16 = [layer.name for layer in qgraph.layers if layer.params.get("precision") != "int8"]
    if fp16:
        raise McuqError(f"{command} --target rtl runs int8 layers only (the CV32E40P model has "
                        f"no FPU), and this export has fp16 layers: {', '.join(fp16[:4])}"
                        f"{' ...' if len(fp16) > 4 else ''}; export with --precision int8, or "
                        "verify it with --target qemu")


if __name__ == "__main__":  # `python -m mcuq.rtl`: build the model now (make test does)
    print(simulator(print))

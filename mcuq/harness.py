"""The generated C on a target: build the verification harness around an export, run it
on the host or on RV32 under QEMU, and read what it printed. Used by verify, bench and
enhance. Frames cross the boundary as bytes in C memory order (mcuq.qgraph.to_c_order)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from codegen.generate import render_verify_data
from codegen.paths import firmware_dir
from mcuq import __version__
from mcuq.errors import McuqError
from mcuq.qgraph import QGraph, QTensor, from_c_order, to_c_order
from mcuq.toolchain import qemu_command

TARGETS = ("host", "qemu")


def c_bytes(values: np.ndarray, tensor: QTensor) -> bytes:
    """Device-format values (..., *shape) as the C code holds them in memory."""
    return to_c_order(np.asarray(values, tensor.dtype), tensor.shape).tobytes()


def build(out_dir: Path, qgraph: QGraph, target: str, frames_q: np.ndarray, trace: bool,
          cores: int, bench: bool = False) -> Path:
    """Build the harness: verification (plain), per-layer dump (trace) or counted (bench).
    frames_q: device-format input frames (time, *input shape)."""
    mode = "-trace" if trace else ("-bench" if bench else "")
    build_dir = out_dir / "build" / f"{target}-{cores}core{mode}"
    build_dir.mkdir(parents=True, exist_ok=True)
    frames = to_c_order(np.asarray(frames_q, qgraph.input_tensor.dtype), qgraph.input_tensor.shape)
    render_verify_data(qgraph.name, __version__, frames.reshape(frames.shape[0], -1),
                       qgraph.tensor_bytes(qgraph.output), build_dir / "verify_data.c")
    elf = build_dir / "verify.elf"
    elf.unlink(missing_ok=True)
    cmd = ["make", "--no-print-directory", "-s", "-B", "-f",
           str(firmware_dir() / "harness" / "Makefile"), f"TARGET={target}",
           f"MODEL={qgraph.name}", f"MODEL_MK={(out_dir / 'c' / (qgraph.name + '.mk')).resolve()}",
           f"VERIFY_DATA={(build_dir / 'verify_data.c').resolve()}",
           f"BUILD={build_dir.resolve()}", f"TRACE={int(trace)}", f"BENCH={int(bench)}", f"CORES={cores}", "-j2",
           str(elf.resolve())]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        log = build_dir / "build.log"
        log.write_text(result.stdout + result.stderr)
        lines = (result.stderr + result.stdout).splitlines()
        first = next((line for line in lines if "error" in line.lower()
                      and not line.startswith(("collect2", "make"))),
                     lines[0] if lines else "see the log")
        raise McuqError(f"building for {target} failed: {first.strip()} (full log: {log})")
    return elf


def run(elf: Path, target: str, timeout_s: float, cores: int) -> str:
    cmd = [str(elf)] if target == "host" else qemu_command(elf, harts=cores + 1)
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise McuqError(f"the {target} run did not finish within {timeout_s:.0f} s") from None
    if result.returncode != 0 or "END" not in result.stdout:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise McuqError(f"the {target} run failed with status {result.returncode}: "
                        + " | ".join(tail))
    return result.stdout


def parse(stdout: str):
    """Output frames (list of bytes), instructions per frame, and layer dumps."""
    outputs, instructions, layers = [], [], {}
    for line in stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "F":
            instructions.append(int(parts[2]))
            outputs.append(bytes.fromhex(parts[3] if len(parts) > 3 else ""))
        elif parts[0] == "L":
            layers[(int(parts[1]), int(parts[2]))] = bytes.fromhex(parts[3] if len(parts) > 3 else "")
    return outputs, instructions, layers


def outputs_of(outputs: list[bytes], tensor: QTensor) -> np.ndarray:
    """The printed output frames as device-format values (frames, *shape)."""
    raw = np.frombuffer(b"".join(outputs), dtype=np.dtype(tensor.dtype))
    return from_c_order(raw.reshape(len(outputs), -1), tensor.shape)

"""mcuq verify: build the generated C for a target, run it, compare every output byte
with the simulator, and on a mismatch name the first layer that differs."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from codegen.generate import render_verify_data
from codegen.paths import firmware_dir
from mcuq.errors import McuqError
from mcuq.export import check_cores
from mcuq.qgraph import QGraph
from mcuq.simulate import Simulator
from mcuq.toolchain import check_toolchain, qemu_command

TARGETS = ("host", "qemu")


def build(out_dir: Path, qgraph: QGraph, target: str, frames_q: np.ndarray, trace: bool,
          cores: int, bench: bool = False) -> Path:
    """Build the harness: verification (plain), per-layer dump (trace) or counted (bench)."""
    mode = "-trace" if trace else ("-bench" if bench else "")
    build_dir = out_dir / "build" / f"{target}-{cores}core{mode}"
    build_dir.mkdir(parents=True, exist_ok=True)
    render_verify_data(qgraph, frames_q, build_dir / "verify_data.c")
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


def first_layer_difference(qgraph: QGraph, trace: dict, dumped: dict) -> dict | None:
    frames = next(iter(trace.values())).shape[1]
    for frame in range(frames):
        for index, layer in enumerate(qgraph.layers):
            expected = np.ascontiguousarray(trace[layer.name][0, frame]).tobytes()
            got = dumped.get((frame, index))
            if got != expected:
                return {"frame": frame, "layer": layer.name, "layer_index": index,
                        "source": layer.source}
    return None


def verify(out_dir: Path, target: str, frames_input: np.ndarray, dump_layers: bool = False,
           timeout_s: float = 600.0, cores: int | None = None) -> dict:
    """Compare the target's output with the simulator over the frames of one input
    sequence `frames_input` (time, features), float, on `cores` cluster cores (default:
    the export's)."""
    out_dir = Path(out_dir)
    if target not in TARGETS:
        raise McuqError(f"unknown target '{target}'; use one of {', '.join(TARGETS)}")
    check_toolchain(target)
    qgraph = QGraph.load(out_dir)
    qgraph.require_c("mcuq verify")
    cores = check_cores(cores or qgraph.meta.get("cores", 1))
    sim = Simulator(qgraph)
    frames_q = sim.quantize_input(frames_input[None])
    trace: dict = {}
    expected = sim.run_device(frames_q, trace)[0]

    elf = build(out_dir, qgraph, target, frames_q[0], trace=False, cores=cores)
    outputs, instructions, _ = parse(run(elf, target, timeout_s, cores))
    got = np.frombuffer(b"".join(outputs), dtype=np.uint8)
    want = np.ascontiguousarray(expected).view(np.uint8).reshape(-1)
    if got.size != want.size:
        raise McuqError(f"the {target} run printed {len(outputs)} frames of output, expected "
                        f"{expected.shape[0]}")
    mismatched = int(np.count_nonzero(got != want))
    summary = {"target": target, "cores": cores, "frames": int(expected.shape[0]),
               "compared_bytes": int(want.size), "mismatched_bytes": mismatched,
               "bit_exact": mismatched == 0}
    if target == "qemu":  # all harts together (QEMU 7.2 has one counter for all)
        summary["instructions_per_frame"] = {
            "mean": float(np.mean(instructions)), "max": int(np.max(instructions)),
            "min": int(np.min(instructions))}
    if mismatched or dump_layers:
        elf = build(out_dir, qgraph, target, frames_q[0], trace=True, cores=cores)
        _, _, dumped = parse(run(elf, target, timeout_s, cores))
        summary["first_difference"] = first_layer_difference(qgraph, trace, dumped)
    return summary

"""mcuq bench: per-core instruction counts of the generated C on RV32 under QEMU.

QEMU runs with `-icount shift=0` (repeatable) and a TCG plugin built here from
firmware/bench/insncount.c, which counts executed instructions per hart and
snapshots all counters at marker instructions placed by the bench harness at
each frame start and after each layer. A layer's critical path is the
instruction count of its busiest cluster core; the model's is the sum over its
layers (each layer ends with a join). Timing assumes one instruction per cycle.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from codegen.paths import firmware_dir
from mcuq.chip import check_cores
from mcuq.errors import McuqError
from mcuq.harness import built, c_bytes, parse, run
from mcuq.ops import op
from mcuq.qgraph import QGraph, QLayer
from mcuq.simulate import Simulator
from mcuq.toolchain import check_toolchain

MARK_FRAME, MARK_LAYER = 0x7A0, 0x7A1


def layer_macs(layer: QLayer) -> int:
    return int(op(layer.kind).macs(layer))


def build_plugin(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lib = directory / "libinsncount.so"
    src = firmware_dir() / "bench" / "insncount.c"
    result = subprocess.run(["gcc", "-O2", "-Wall", "-shared", "-fPIC", "-o", str(lib), str(src)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise McuqError(f"building the QEMU counting plugin failed: {result.stderr.strip()}")
    return lib


def parse_marks(log: str, cores: int, layers: int) -> np.ndarray:
    """Per-frame, per-layer, per-cluster-core instruction counts: (frames, layers, cores)."""
    marks = []
    for line in log.splitlines():
        parts = line.split()
        if parts and parts[0] == "mark":
            marks.append((int(parts[1]), np.array([int(v) for v in parts[2:]], dtype=np.int64)))
    per_frame = layers + 1
    if not marks or len(marks) % per_frame:
        raise McuqError(f"the counting plugin recorded {len(marks)} marks, not a multiple of "
                        f"{per_frame} (one frame start and {layers} layers per frame)")
    rows = []
    for f in range(0, len(marks), per_frame):
        frame = marks[f:f + per_frame]
        if frame[0][0] != MARK_FRAME or any(imm != MARK_LAYER for imm, _ in frame[1:]):
            raise McuqError("the counting plugin's marks are out of order")
        counts = np.stack([c for _, c in frame])  # (layers + 1, harts)
        rows.append(np.diff(counts, axis=0)[:, 1:cores + 1])  # cluster harts 1..cores
    return np.stack(rows)


def run_counted(out_dir: Path, qgraph: QGraph, frames_q: np.ndarray, cores: int,
                expected: np.ndarray, timeout_s: float) -> np.ndarray:
    with built(out_dir, qgraph, "qemu", frames_q, trace=False, cores=cores, bench=True) as elf:
        build_plugin(elf.parent)
        # relative names inside the run folder: QEMU splits -plugin values at commas
        result = run(elf, "qemu", timeout_s, cores, extra=["-plugin", "out/libinsncount.so",
                                                            "-d", "plugin", "-D", "out/insncount.log"])
        log = elf.parent / "insncount.log"
        if not log.is_file():
            raise McuqError("the counted QEMU run wrote no counts")
        outputs, _, _ = parse(result.stdout)
        if b"".join(outputs) != c_bytes(expected, qgraph.output_tensor):
            raise McuqError(f"the {cores}-core bench build is not bit-exact with the simulator; "
                            "run `mcuq verify --dump-layers` on it")
        return parse_marks(log.read_text(), cores, len(qgraph.layers))


def bench(out_dir: Path, cores_list: list[int], frames_input: np.ndarray,
          clock_hz: float = 370e6, hop_s: float = 6.25e-3, timeout_s: float = 900.0) -> dict:
    out_dir = Path(out_dir)
    cores_list = sorted({check_cores(c) for c in cores_list})
    check_toolchain("qemu")
    qgraph = QGraph.load(out_dir)
    qgraph.require_c("mcuq bench")
    sim = Simulator(qgraph)
    frames_q = sim.quantize_input(frames_input[None])
    expected = sim.run_device(frames_q)[0]
    counts = {c: run_counted(out_dir, qgraph, frames_q[0], c, expected, timeout_s)
              for c in cores_list}
    base = cores_list[0]
    macs = [layer_macs(layer) for layer in qgraph.layers]
    layers = []
    for i, layer in enumerate(qgraph.layers):
        critical = {str(c): float(counts[c][:, i].max(axis=1).mean()) for c in cores_list}
        layers.append({
            "layer": layer.name, "kind": layer.kind, "macs": macs[i],
            "critical_path_instructions": critical,
            "all_cores_instructions": {str(c): float(counts[c][:, i].sum(axis=1).mean())
                                       for c in cores_list},
            "macs_per_instruction": {k: (macs[i] / v if v else 0.0) for k, v in critical.items()},
            "speedup": {k: critical[str(base)] / v if v else 0.0 for k, v in critical.items()},
        })
    critical = {str(c): float(sum(row["critical_path_instructions"][str(c)] for row in layers))
                for c in cores_list}
    budget = clock_hz * hop_s
    return {
        "model": qgraph.meta.get("source", ""), "frames": int(expected.shape[0]),
        "macs": int(sum(macs)),
        "critical_path_instructions": critical,
        "speedup": {k: critical[str(base)] / v for k, v in critical.items()},
        "macs_per_instruction": {k: sum(macs) / v for k, v in critical.items()},
        "speedup_baseline_cores": base,
        "realtime": {"clock_hz": clock_hz, "hop_s": hop_s, "budget_instructions": budget,
                     "assumption": "one instruction per cycle",
                     "load": {k: v / budget for k, v in critical.items()}},
        "layers": layers,
    }

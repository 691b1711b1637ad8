"""mcuq bench: per-core instruction counts of the generated C on RV32 under QEMU, or
cycle counts on the CV32E40P core's RTL (--target rtl, `bench_rtl`).

QEMU runs with `-icount shift=0` (repeatable) and a TCG plugin built here from
firmware/bench/insncount.c, which counts executed instructions per hart and
snapshots all counters at marker instructions placed by the bench harness at
each frame start and after each layer. A layer's critical path is the
instruction count of its busiest cluster core; the model's is the sum over its
layers (each layer ends with a join). Timing assumes one instruction per cycle.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np

from codegen.paths import firmware_dir
from mcuq.chip import check_cores
from mcuq.errors import McuqError
from mcuq.harness import built, c_bytes, parse, run
from mcuq.ops import op
from mcuq.qgraph import QGraph, QLayer, c_manifest
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
    qgraph.require_streaming("mcuq bench")
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


# the modelled cluster DMA: bytes per cycle from L2 into L1 (a 64-bit bus, as GAP-class
# clusters have); the RTL has no DMA, so a transfer's time is this model's, not a count
DMA_BYTES_PER_CYCLE = 8


def dma_model(bytes_moved: float, first_tile_bytes: float, compute_cycles: float) -> dict:
    """A streamed layer's modelled transfer time, and the part of it that compute does not
    hide: the first tile (fetched before any compute) and whatever the other tiles take
    beyond the compute they run beside."""
    first = first_tile_bytes / DMA_BYTES_PER_CYCLE
    rest = (bytes_moved - first_tile_bytes) / DMA_BYTES_PER_CYCLE
    return {"dma_cycles": first + rest, "exposed_dma_cycles": first + max(0.0, rest - compute_cycles)}


def parse_counts(stdout: str, layers: int, cores: int) -> np.ndarray:
    """The rtl port's per-layer counts (firmware/harness/verify_main.c, "C" lines):
    (frames, layers, 3 + 2 cores): critical-path cycles and instructions, cycles and
    instructions of each core, then the bytes the DMA moved."""
    rows = []
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "C":
            per_core = [int(v) for pair in parts[5:5 + cores] for v in pair.split("/")]
            rows.append([int(parts[3]), int(parts[4])] + per_core + [int(parts[-1])])
    if not rows or len(rows) % layers:
        raise McuqError(f"the RTL run printed {len(rows)} layer counts, not a multiple of "
                        f"{layers} layers")
    return np.array(rows, dtype=np.int64).reshape(-1, layers, 3 + 2 * cores)


def run_rtl(out_dir: Path, qgraph: QGraph, frames_q: np.ndarray, cores: int,
            expected: np.ndarray, timeout_s: float) -> np.ndarray:
    with built(out_dir, qgraph, "rtl", frames_q, trace=False, cores=cores, bench=True) as elf:
        result = run(elf, "rtl", timeout_s, cores)
        outputs, _, _ = parse(result.stdout)
        if b"".join(outputs) != c_bytes(expected, qgraph.output_tensor):
            raise McuqError(f"the {cores}-core RTL bench build is not bit-exact with the "
                            "simulator; run `mcuq verify --target rtl --dump-layers` on it")
        return parse_counts(result.stdout, len(qgraph.layers), cores)


def c_memory(out_dir: Path) -> dict:
    """The export's placement (report.json "memory"; empty for an older export)."""
    try:
        return json.loads((Path(out_dir) / "report.json").read_text()).get("memory") or {}
    except (OSError, ValueError, AttributeError):
        return {}


def bench_rtl(out_dir: Path, cores_list: list[int], frames_input: np.ndarray,
              clock_hz: float = 370e6, hop_s: float = 6.25e-3, timeout_s: float = 3600.0,
              scalar: bool = True) -> dict:
    """Cycles per layer on the CV32E40P RTL, for the export's instruction set and (when it
    is not rv32, and `scalar`) for the scalar rv32 kernels of the same quantized model,
    generated afresh, so the SIMD gain is a ratio of two runs on one core.

    An N-core figure runs each core's share of every layer on the one core, in turn (the
    split is deterministic; mcuq/rtl.py); a layer's critical path is, per barrier phase,
    the busiest core's cycles. Memory is single-cycle: a cluster's memory-bank contention
    and DMA are not modelled. The control core's fork and join are not counted."""
    import tempfile

    from mcuq import memory
    from mcuq.lower import lower
    from mcuq.rtl import require_integer

    out_dir = Path(out_dir)
    cores_list = sorted({check_cores(c) for c in cores_list})
    check_toolchain("rtl")
    qgraph = QGraph.load(out_dir)
    qgraph.require_c("mcuq bench")
    qgraph.require_streaming("mcuq bench")
    require_integer(qgraph, "mcuq bench")
    isa = qgraph.meta.get("isa", "rv32")
    sim = Simulator(qgraph)
    frames_q = sim.quantize_input(frames_input[None])
    expected = sim.run_device(frames_q)[0]
    counts = {c: run_rtl(out_dir, qgraph, frames_q[0], c, expected, timeout_s)
              for c in cores_list}
    baseline = None
    if scalar and isa != "rv32":
        with tempfile.TemporaryDirectory(prefix="mcuq-rv32-") as tmp:
            memory.generate(lower(qgraph, "rv32", qgraph.meta.get("source", "")),
                            Path(tmp) / "c", memory.of_meta(qgraph.meta))
            scalar_graph = dataclasses.replace(qgraph, c_files=c_manifest(Path(tmp) / "c"))
            baseline = {c: run_rtl(Path(tmp), scalar_graph, frames_q[0], c, expected, timeout_s)
                        for c in cores_list}
    macs = [layer_macs(layer) for layer in qgraph.layers]
    keys = [str(c) for c in cores_list]
    base = keys[0]
    placed = c_memory(out_dir).get("layers", {})

    def mean(a: np.ndarray) -> float:
        return float(a.mean())

    layers = []
    for i, layer in enumerate(qgraph.layers):
        cycles = {str(c): mean(counts[c][:, i, 0]) for c in cores_list}
        instructions = {str(c): mean(counts[c][:, i, 1]) for c in cores_list}
        row = {
            "layer": layer.name, "kind": layer.kind, "macs": macs[i],
            "critical_path_instructions": instructions,
            "all_cores_instructions": {str(c): mean(counts[c][:, i, 3:2 + 2 * c:2].sum(axis=1))
                                       for c in cores_list},
            "macs_per_instruction": {k: macs[i] / v if v else 0.0 for k, v in instructions.items()},
            "speedup": {k: cycles[base] / v if v else 0.0 for k, v in cycles.items()},
            "cycles": cycles,
            "macs_per_cycle": {k: macs[i] / v if v else 0.0 for k, v in cycles.items()},
        }
        moved = mean(counts[cores_list[0]][:, i, -1])
        if moved:
            place = placed.get(layer.name, {})
            share = place["tile_units"] / place["units"] if place.get("units") else 1.0
            row["dma_bytes"] = moved
            row["dma"] = {k: dma_model(moved, moved * share, v) for k, v in cycles.items()}
        if baseline:
            row["scalar_cycles"] = {str(c): mean(baseline[c][:, i, 0]) for c in cores_list}
            row["simd_gain"] = {k: row["scalar_cycles"][k] / v if v else 0.0
                                for k, v in cycles.items()}
        layers.append(row)

    def total(key: str) -> dict:
        return {k: float(sum(row[key][k] for row in layers)) for k in keys}

    cycles, instructions = total("cycles"), total("critical_path_instructions")
    budget = clock_hz * hop_s
    result = {
        "model": qgraph.meta.get("source", ""), "target": "rtl", "isa": isa,
        "core": "CV32E40P (pythondata-cpu-cv32e40p RTL under Verilator)",
        "frames": int(expected.shape[0]), "macs": int(sum(macs)),
        "critical_path_instructions": instructions,
        "speedup": {k: cycles[base] / v for k, v in cycles.items()},
        "macs_per_instruction": {k: sum(macs) / v for k, v in instructions.items()},
        "speedup_baseline_cores": cores_list[0],
        "critical_path_cycles": cycles,
        "macs_per_cycle": {k: sum(macs) / v for k, v in cycles.items()},
        "dma_bytes": float(sum(row.get("dma_bytes", 0.0) for row in layers)),
        "dma_model": {"bytes_per_cycle": DMA_BYTES_PER_CYCLE,
                      "assumption": "L2 -> L1 at this rate beside the cores; the RTL's cycles "
                                    "leave the copies out"},
        "realtime": {"clock_hz": clock_hz, "hop_s": hop_s, "budget_cycles": budget,
                     "assumption": "the RTL's cycles; single-cycle memory, no bank contention",
                     "load": {k: v / budget for k, v in cycles.items()}},
        "layers": layers,
    }
    if baseline:
        result["scalar"] = {"isa": "rv32", "critical_path_cycles": total("scalar_cycles")}
        result["simd_gain"] = {k: result["scalar"]["critical_path_cycles"][k] / v
                               for k, v in cycles.items()}
    return result

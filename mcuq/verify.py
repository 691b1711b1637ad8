"""mcuq verify: build the generated C for a target, run it, compare every output byte
with the simulator, and on a mismatch name the first layer that differs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.chip import check_cores
from mcuq.errors import McuqError
from mcuq.harness import TARGETS, built, c_bytes, parse, run, sections
from mcuq.qgraph import QGraph
from mcuq.simulate import Simulator
from mcuq.rtl import require_integer
from mcuq.toolchain import check_toolchain


def first_layer_difference(qgraph: QGraph, trace: dict, dumped: dict) -> dict | None:
    frames = next(iter(trace.values())).shape[1]
    for frame in range(frames):
        for index, layer in enumerate(qgraph.layers):
            expected = c_bytes(trace[layer.name][0, frame], qgraph.tensors[layer.outputs[0]])
            if dumped.get((frame, index)) != expected:
                return {"frame": frame, "layer": layer.name, "layer_index": index,
                        "source": layer.source}
    return None


def verify(out_dir: Path, target: str, frames_input: np.ndarray, dump_layers: bool = False,
           timeout_s: float = 600.0, cores: int | None = None, sanitize: bool = False) -> dict:
    """Compare the target's output with the simulator over the frames of one input
    sequence `frames_input` (time, *input shape), float, on `cores` cluster cores
    (default: the export's)."""
    out_dir = Path(out_dir)
    if target not in TARGETS:
        raise McuqError(f"unknown target '{target}'; use one of {', '.join(TARGETS)}")
    check_toolchain(target)
    qgraph = QGraph.load(out_dir)
    qgraph.require_c("mcuq verify")
    if target == "rtl":
        require_integer(qgraph, "mcuq verify")
    cores = check_cores(cores or qgraph.meta.get("cores", 1))
    if sanitize and target != "host":
        raise McuqError("--sanitize builds the host harness with AddressSanitizer; use it "
                        "with --target host")
    if qgraph.sequence and frames_input.shape[0] > qgraph.meta.get("max_frames", 0):
        raise McuqError(f"the input has {frames_input.shape[0]} frames, and this model (it "
                        "reads its sequences backwards) takes at most "
                        f"{qgraph.meta.get('max_frames')}: its arena holds the longest "
                        "sequence of the export; export with longer calibration sequences")
    sim = Simulator(qgraph)
    frames_q = sim.quantize_input(frames_input[None])
    trace: dict = {}
    expected = sim.run_device(frames_q, trace)[0]

    with built(out_dir, qgraph, target, frames_q[0], trace=False, cores=cores,
               sanitize=sanitize) as elf:
        outputs, instructions, _ = parse(run(elf, target, timeout_s, cores).stdout)
        sizes = sections(elf) if target == "qemu" else None
    got = np.frombuffer(b"".join(outputs), dtype=np.uint8)
    want = np.frombuffer(c_bytes(expected, qgraph.output_tensor), dtype=np.uint8)
    if got.size != want.size:
        raise McuqError(f"the {target} run printed {len(outputs)} frames of output, expected "
                        f"{expected.shape[0]}")
    mismatched = int(np.count_nonzero(got != want))
    summary = {"target": target, "cores": cores, "sanitize": sanitize,
               "frames": int(expected.shape[0]),
               "compared_bytes": int(want.size), "mismatched_bytes": mismatched,
               "bit_exact": mismatched == 0}
    if sizes:
        summary["sections"] = sizes
    if target == "qemu":  # all harts together (QEMU 7.2 has one counter for all)
        summary["instructions_per_frame"] = {
            "mean": float(np.mean(instructions)), "max": int(np.max(instructions)),
            "min": int(np.min(instructions))}
    if mismatched or dump_layers:
        with built(out_dir, qgraph, target, frames_q[0], trace=True, cores=cores) as elf:
            _, _, dumped = parse(run(elf, target, timeout_s, cores).stdout)
        summary["first_difference"] = first_layer_difference(qgraph, trace, dumped)
    return summary

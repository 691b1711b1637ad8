"""Benchmark: int8 kernels with SIMD dot products (--isa xcv) against the scalar rv32
kernels, in cycles on the CV32E40P core's RTL, 1 core and the 8-core critical path.

    .venv/bin/python bench/xcv_rtl.py            (about 10 minutes on 2 cores)

Exports the paper-size LSTM-256 and GRU-256 speech models and the digits RepVGG
(int8, plain and with CFWS) with --isa xcv, runs `mcuq bench --target rtl`: each
build is checked bit-exact against the simulator, and the rv32 kernels of the same
quantized model run on the same core in the same run. Writes
bench/results/xcv_rtl.{json,md}.

What the figures are: cycles of the RTL of one CV32E40P (single-cycle memory). An 8-core
figure runs each core's share of every layer on that core, in turn (the split is
deterministic), and takes the busiest core of each barrier phase: it leaves out a
cluster's memory-bank contention and DMA, and the fork/join of the control core. Weights
are read in place (an L1 large enough for all of them); what streaming them through
GAP9's L1 costs is bench/memory_streaming.py's.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from codegen.memory import MemoryTarget
from mcuq.bench import bench_rtl
from mcuq.export import export
from mcuq.speech.corpus import generate
from mcuq.speech.data import calibration_array

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "data" / "speech"
CORES = [1, 8]
SPEECH_FRAMES = 4
COMMAND = ".venv/bin/python bench/xcv_rtl.py"
IN_PLACE = MemoryTarget(l1=64 * 1024 * 1024)  # every weight resident: nothing streams
# (name, model file, options)
MODELS = [("lstm256", "lstm256.onnx", {}), ("gru256", "gru256.onnx", {}),
          ("repvgg_digits", "repvgg_digits.onnx", {}),
          ("repvgg_digits+cfws", "repvgg_digits.onnx", {"cfws": True})]


def digits_images(split: str, count: int) -> np.ndarray:
    from mcuq.vision.datasets import digits

    return digits(split)[0][:count].astype(np.float32)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not (DATA / "manifest.json").is_file():
            generate(DATA)
        speech = calibration_array(DATA, "calib")
        np.save(Path(tmp) / "speech.npy", speech)
        np.save(Path(tmp) / "images.npy", digits_images("train", 256))
        test_image = digits_images("test", 1)
        for name, model, options in MODELS:
            image = name.startswith("repvgg")
            out = Path(tmp) / name
            export(EXAMPLES / "models" / model, Path(tmp) / ("images.npy" if image else "speech.npy"),
                   out, cores=max(CORES), precision="int8", isa="xcv", memory=IN_PLACE,
                   **options)
            frames = test_image if image else speech[0, :SPEECH_FRAMES]
            result = bench_rtl(out, CORES, frames)
            rows.append({**result, "model": name})
            print(f"{name}: 1 core {result['critical_path_cycles']['1']:.0f} cycles/frame "
                  f"({result['simd_gain']['1']:.1f}x fewer than rv32), 8 cores "
                  f"{result['critical_path_cycles']['8']:.0f}", flush=True)
    doc = {"command": COMMAND, "verilator": subprocess.run(
        ["verilator", "--version"], capture_output=True, text=True).stdout.strip(),
        "clang": subprocess.run(["clang-19", "--version"], capture_output=True,
                                text=True).stdout.splitlines()[0],
        "python": platform.python_version(), "results": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "xcv_rtl.json").write_text(json.dumps(doc, indent=1) + "\n")
    (RESULTS / "xcv_rtl.md").write_text(markdown(doc))


def markdown(doc: dict) -> str:
    lines = ["# int8 SIMD kernels (xcv) vs scalar (rv32) on the CV32E40P RTL", "",
             f"Made by `{doc['command']}` ({doc['verilator']}, {doc['clang']}). Cycles per "
             f"frame, the mean over {SPEECH_FRAMES} frames of the speech corpus's calib split "
             "(speech models) or one 32x32 test digit (RepVGG, calibrated on 256 training digits). Every build bit-exact with the "
             "simulator. 8 cores: each core's share run in turn on the one core, the busiest "
             "core of each barrier phase summed; single-cycle memory, so a cluster's bank "
             "contention is not in these figures, nor the control core's fork and join.", "",
             "| model | MACs/frame | rv32, 1 core | xcv, 1 core | SIMD gain | xcv MAC/cycle | "
             "rv32, 8 cores | xcv, 8 cores | 8-core speedup | 8-core load at 370 MHz, 6.25 ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        c, s = r["critical_path_cycles"], r["scalar"]["critical_path_cycles"]
        lines.append(f"| {r['model']} | {r['macs']:,} | {s['1']:,.0f} | {c['1']:,.0f} | "
                     f"{r['simd_gain']['1']:.1f}x | {r['macs_per_cycle']['1']:.2f} | "
                     f"{s['8']:,.0f} | {c['8']:,.0f} | {r['speedup']['8']:.2f} | "
                     f"{100 * r['realtime']['load']['8']:.1f}% |")
    lines += ["", "Per layer (cycles per frame; MAC/cycle per core = MACs / (cores x cycles)):",
              "", "| model | layer | kind | MACs | rv32 1 core | xcv 1 core | gain | "
              "xcv MAC/cycle | xcv 8 cores | MAC/cycle per core (8) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        for row in r["layers"]:
            per_core = row["macs"] / (8 * row["cycles"]["8"]) if row["cycles"]["8"] else 0.0
            lines.append(f"| {r['model']} | {row['layer']} | {row['kind']} | {row['macs']:,} | "
                         f"{row['scalar_cycles']['1']:,.0f} | {row['cycles']['1']:,.0f} | "
                         f"{row['simd_gain']['1']:.1f}x | {row['macs_per_cycle']['1']:.2f} | "
                         f"{row['cycles']['8']:,.0f} | {per_core:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the example speech models on RV32/QEMU, 1 vs 8 cluster cores.

    .venv/bin/python bench/speech_models.py            (about a minute)

Exports each example model (int8 and the mixed FP16-INT8 recipe), checks it bit-exact
against the simulator,
counts instructions per core with `mcuq bench`, and writes
bench/results/speech_models.{json,md}. Figures are instruction counts under
`qemu -icount shift=0` (exactly repeatable); time assumes one instruction per cycle.
Weights are read in place (an L1 large enough for all of them): what streaming them
through GAP9's L1 costs is bench/memory_streaming.py's.
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
from mcuq.bench import bench
from mcuq.export import export
from mcuq.speech.corpus import generate
from mcuq.speech.data import calibration_array

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RESULTS = ROOT / "bench" / "results"
# (model, precision, calibration): the small examples calibrate on their bundled data,
# the paper-size ones on the generated corpus (data/speech, made if missing)
MODELS = [("gru_small", "int8", "small"), ("lstm_small", "int8", "small"),
          ("gru256", "int8", "corpus"), ("gru256", "mixed", "corpus"),
          ("lstm256", "int8", "corpus"), ("lstm256", "mixed", "corpus")]
DATA = ROOT / "data" / "speech"
CORES = [1, 8]
COMMAND = ".venv/bin/python bench/speech_models.py"
IN_PLACE = MemoryTarget(l1=64 * 1024 * 1024)  # every weight resident: nothing streams


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        calib = {"small": EXAMPLES / "data" / "calib_small.npy", "corpus": Path(tmp) / "calib.npy"}
        if not (DATA / "manifest.json").is_file():
            generate(DATA)
        corpus_calib = calibration_array(DATA, "calib")
        np.save(calib["corpus"], corpus_calib)
        inputs = {"small": np.load(EXAMPLES / "data" / "test_small.npy")[0],
                  "corpus": corpus_calib[0, :100]}
        for name, precision, data in MODELS:
            out = Path(tmp) / f"{name}_{precision}"
            export(EXAMPLES / "models" / f"{name}.onnx", calib[data], out, cores=max(CORES),
                   precision=precision, memory=IN_PLACE)
            result = bench(out, CORES, inputs[data])
            rows.append({**result, "model": name, "precision": precision})
            print(f"{name} {precision}: speedup {result['speedup']['8']:.2f}, critical path "
                  f"{result['critical_path_instructions']['8']:.0f} instructions/frame on 8 cores")
    qemu = subprocess.run(["qemu-system-riscv32", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    doc = {"command": COMMAND, "qemu": qemu, "python": platform.python_version(), "results": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speech_models.json").write_text(json.dumps(doc, indent=1) + "\n")
    (RESULTS / "speech_models.md").write_text(markdown(doc))


def markdown(doc: dict) -> str:
    lines = ["# Speech models on RV32 (QEMU), 1 vs 8 cores", "",
             f"Made by `{doc['command']}` with {doc['qemu']}. Instruction counts per frame under "
             "`-icount shift=0`, averaged over 100 frames of `examples/data/test_small.npy` "
             "(small models) or of the corpus calib split (256 models); "
             "critical path = the busiest cluster core, summed over layers. Real-time load "
             "assumes one instruction per cycle at 370 MHz and a 6.25 ms hop.", "",
             "| model | precision | MACs/frame | 1 core | 8 cores | speedup | MACs/instr (1 core) "
             "| load at 8 cores |", "|---|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        cp = r["critical_path_instructions"]
        lines.append(f"| {r['model']} | {r['precision']} | {r['macs']:,} | {cp['1']:,.0f} | "
                     f"{cp['8']:,.0f} | {r['speedup']['8']:.2f} | "
                     f"{r['macs_per_instruction']['1']:.3f} | "
                     f"{100 * r['realtime']['load']['8']:.1f}% |")
    lines += ["", "Per layer (8 cores):", "",
              "| model | layer | MACs | critical path | speedup | MACs/instr per core |",
              "|---|---|---|---|---|---|"]
    for r in doc["results"]:
        for row in r["layers"]:
            per_core = row["macs"] / (8 * row["critical_path_instructions"]["8"])
            lines.append(f"| {r['model']} {r['precision']} | {row['layer']} | {row['macs']:,} | "
                         f"{row['critical_path_instructions']['8']:,.0f} | "
                         f"{row['speedup']['8']:.2f} | {per_core:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

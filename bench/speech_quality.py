"""Benchmark: speech quality of the paper-size models, FP32 vs FP16 vs INT8 vs mixed.

    .venv/bin/python bench/speech_quality.py [lstm256] [gru256]
                          (about half an hour per model on 2 cores; FP16 simulation dominates)

Generates the corpus into data/speech if it is missing (`mcuq corpus`, deterministic),
calibrates on its calib split (40 clips x 200 frames) and evaluates
examples/models/{lstm,gru}256.onnx (made by examples/train_speech.py, see the README)
on its 120-clip test split. Writes bench/results/speech_quality_<model>.{md,json,png}.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from mcuq.speech.corpus import generate
from mcuq.speech.data import calibration_array
from mcuq.speech.evaluate import evaluate, markdown, write_results

ROOT = Path(__file__).resolve().parent.parent
# Relative to ROOT, so the written results name paths a reader can follow in the repo.
DATA = Path("data") / "speech"
RESULTS = Path("bench") / "results"
MODELS = ["lstm256", "gru256"]


def main() -> None:
    os.chdir(ROOT)
    names = sys.argv[1:] or MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"error: unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    if not (DATA / "manifest.json").is_file():
        generate(DATA)
    calib = calibration_array(DATA, "calib")
    with tempfile.TemporaryDirectory() as tmp:
        calib_path = Path(tmp) / "calib.npy"
        np.save(calib_path, calib)
        for name in names:
            model = Path("examples") / "models" / f"{name}.onnx"
            command = f".venv/bin/python bench/speech_quality.py {name}"
            result = evaluate(model, calib_path, DATA, "test",
                              progress=lambda c, n=name: print(f"{n}: {c} done", flush=True))
            out = Path(tmp) / name
            write_results(result, out, command)
            RESULTS.mkdir(parents=True, exist_ok=True)
            for suffix, src in (("md", "results.md"), ("json", "results.json"),
                                ("png", "spectrograms.png")):
                shutil.copyfile(out / src, RESULTS / f"speech_quality_{name}.{suffix}")
            print(markdown(result, command))
            t = json.loads((out / "results.json").read_text())["table"]
            print(f"{name}: mixed dPESQ {t['mixed']['delta_to_fp32']['pesq']:+.3f}, "
                  f"int8 dPESQ {t['int8']['delta_to_fp32']['pesq']:+.3f}")


if __name__ == "__main__":
    sys.exit(main())

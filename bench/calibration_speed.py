"""Calibration speed and memory on the paper-size LSTM-256 speech model: mcuq export
(calibration, quantization, C generation) against ONNX Runtime's quantize_static MinMax
on the same model and the same 4,096 sequences of 20 frames, in the same run.

    .venv/bin/python bench/calibration_speed.py

Each tool runs in its own process; the figures are wall time and peak RSS (VmHWM).
Writes bench/results/calibration_speed.{json,md}.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples/models/lstm256.onnx"
SEQUENCES, FRAMES = 4096, 20


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise SystemExit("no VmHWM")


def data(path: Path) -> None:
    """Speech-like features: 4,096 sequences of 20 frames of 257 log-magnitude bins."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SEQUENCES, FRAMES, 257)).astype(np.float32) * 0.5
    np.save(path, x + np.linspace(-2.0, 1.0, 257, dtype=np.float32))


def run_mcuq(calib: Path, method: str) -> dict:
    from mcuq.export import export
    start = time.perf_counter()
    export(MODEL, calib, calib.parent / f"out_{method}", force=True, calib_method=method)
    return {"tool": f"mcuq export --calib-method {method}",
            "seconds": round(time.perf_counter() - start, 2), "peak_rss_mb": peak_rss_mb()}


def run_ort(calib: Path) -> dict:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    x = np.load(calib, mmap_mode="r")
    name = onnx.load(str(MODEL)).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= len(x):
                return None
            self.i += 1
            return {name: np.ascontiguousarray(x[self.i - 1:self.i])}

    start = time.perf_counter()
    quantize_static(str(MODEL), str(calib.parent / "ort.onnx"), Reader(),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return {"tool": "onnxruntime quantize_static MinMax",
            "seconds": round(time.perf_counter() - start, 2), "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    if len(sys.argv) > 1:  # a child: one tool
        calib = Path(sys.argv[2])
        row = run_ort(calib) if sys.argv[1] == "ort" else run_mcuq(calib, sys.argv[1])
        print(json.dumps(row))
        return
    scratch = Path("/tmp/mcuq_calibration_speed")
    scratch.mkdir(exist_ok=True)
    calib = scratch / "calib.npy"
    data(calib)
    rows = []
    for tool in ("minmax", "kl-improved", "ort"):
        done = subprocess.run([sys.executable, __file__, tool, str(calib)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    lines = ["# Calibration speed: LSTM-256, 4,096 sequences of 20 frames", "",
             "Made by `.venv/bin/python bench/calibration_speed.py` (2 cores). mcuq's time is the "
             "whole export (calibration, quantization, report, C); ONNX Runtime's is "
             "quantize_static (calibration and QDQ model). Each in its own process.", "",
             "| tool | seconds | peak RSS (MB) |", "|---|---|---|"]
    lines += [f"| {r['tool']} | {r['seconds']} | {r['peak_rss_mb']} |" for r in rows]
    out = ROOT / "bench" / "results"
    (out / "calibration_speed.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "calibration_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Benchmark: `mcuq eval` of the LSTM-256 on the speech corpus with the C host engine
(mcuq/engine.py) and with the NumPy simulator.

    .venv/bin/python bench/host_engine.py [--clips 120] [--numpy-clips 12]   (about 6 min)

Needs the corpus (`mcuq corpus data/speech`). Runs `mcuq eval` with all four
configurations (FP32, FP16, INT8, mixed) on --clips test clips with `--engine c`, timed
wall-clock on this machine's cores, with ccache off (every kernel compiled afresh, as on a
fresh machine). Then both engines on the first --numpy-clips clips: their results.json must
be the same bytes apart from the command line (the NumPy engine takes about 17 s per clip
here, so the whole test split would take about half an hour). Writes
bench/results/host_engine.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MODEL = ROOT / "examples" / "models" / "lstm256.onnx"
CORPUS = ROOT / "data" / "speech"


def run_eval(out: Path, engine: str, clips: int) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "mcuq.cli", "eval", str(MODEL), "--calib",
           str(CORPUS / "calib_features.npy"), "--data", str(CORPUS), "--configs",
           "fp16,int8,mixed", "--limit", str(clips), "--engine", engine, "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "CCACHE_DISABLE": "1"})
    seconds = time.perf_counter() - start
    doc = json.loads((out / "results.json").read_text())
    doc.pop("command", None)
    return seconds, doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=120)
    parser.add_argument("--numpy-clips", type=int, default=12)
    args = parser.parse_args()
    if not (CORPUS / "calib_features.npy").exists():
        sys.exit(f"no corpus at {CORPUS}: make it with `.venv/bin/mcuq corpus {CORPUS}`")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        c_seconds, c_doc = run_eval(tmp / "c", "c", args.clips)
        small = {}
        for engine in ("c", "numpy"):
            small[engine] = run_eval(tmp / f"{engine}-small", engine, args.numpy_clips)
    same = json.dumps(small["c"][1], sort_keys=True) == json.dumps(small["numpy"][1],
                                                                    sort_keys=True)
    table = c_doc["table"]
    result = {
        "command": ".venv/bin/python bench/host_engine.py" + (
            f" --clips {args.clips}" if args.clips != 120 else "") + (
            f" --numpy-clips {args.numpy_clips}" if args.numpy_clips != 12 else ""),
        "cores": os.cpu_count(), "model": MODEL.name, "clips": c_doc["clips"],
        "audio_seconds": c_doc["seconds"], "c_seconds": round(c_seconds, 1),
        "small_clips": args.numpy_clips, "small_c_seconds": round(small["c"][0], 1),
        "small_numpy_seconds": round(small["numpy"][0], 1), "same_results": same,
        "pesq": {c: round(v["pesq"], 3) for c, v in table.items()}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "host_engine.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# Host engine: `mcuq eval` of the LSTM-256, C engine against the NumPy simulator", "",
        f"Made by `{result['command']}` on {result['cores']} cores, ccache off. Each run is "
        "`mcuq eval examples/models/lstm256.onnx` with all four configurations (FP32, FP16, "
        "INT8, mixed), PESQ, STOI and SI-SDR included, wall clock.", "",
        "| run | clips (audio) | engine | seconds |", "|---|---|---|---|",
        f"| whole test split | {result['clips']} ({result['audio_seconds']:.0f} s) | c | "
        f"{result['c_seconds']:.1f} |",
        f"| first clips | {args.numpy_clips} | c | {result['small_c_seconds']:.1f} |",
        f"| first clips | {args.numpy_clips} | numpy | {result['small_numpy_seconds']:.1f} |",
        "",
        f"results.json of the two engines on the first {args.numpy_clips} clips, the command "
        f"line aside: **{'identical' if same else 'DIFFERENT'}**.", "",
        "PESQ-WB on the whole split: " + ", ".join(f"{c} {v}" for c, v in result["pesq"].items())
        + "."]
    (RESULTS / "host_engine.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not same:
        sys.exit("the engines' results differ")


if __name__ == "__main__":
    main()

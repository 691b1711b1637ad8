"""Cross-layer equalization (--equalize) on the LSTM-256 speech model with one lopsided
channel, scored by PESQ: fc_in's output channel 5 scaled by 20 (weights and bias: the ReLU
commutes with a positive scale) and the first LSTM's input column 5 by 1/20, so that the
float model computes the same mask (checked against ONNX Runtime on the original). Its
int8 export loses quality (one range per tensor serves a channel 20 times wider than the
rest); --equalize moves the imbalance back into per-channel weight ranges.

    .venv/bin/python bench/equalize_speech.py [--limit 40]

Needs the corpus (`mcuq corpus data/speech`). Writes bench/results/equalize_speech.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "models" / "lstm256.onnx"
CHANNEL, FACTOR = 5, 20.0


def lopsided(path: Path, out: Path) -> None:
    """The model with fc_in's output channel CHANNEL scaled by FACTOR and the first LSTM's
    input column CHANNEL by 1 / FACTOR."""
    model = onnx.load(str(path))
    inits = {i.name: i for i in model.graph.initializer}
    fc = next(n for n in model.graph.node if n.op_type == "MatMul")
    add = next(n for n in model.graph.node if n.op_type == "Add" and fc.output[0] in n.input)
    lstm = next(n for n in model.graph.node if n.op_type == "LSTM")
    bias_name = next(name for name in add.input if name in inits)
    changes = {fc.input[1]: lambda w: w.__setitem__((slice(None), CHANNEL), w[:, CHANNEL] * FACTOR),
               bias_name: lambda b: b.__setitem__(CHANNEL, b[CHANNEL] * FACTOR),
               lstm.input[1]: lambda w: w.__setitem__((slice(None), slice(None), CHANNEL),
                                                      w[:, :, CHANNEL] / FACTOR)}
    for name, change in changes.items():
        array = numpy_helper.to_array(inits[name]).copy()
        change(array)
        inits[name].CopyFrom(numpy_helper.from_array(array.astype(np.float32), name))
    onnx.save(model, str(out))


def float_difference(a: Path, b: Path, feats: np.ndarray) -> float:
    import onnxruntime as ort

    outs = []
    for path in (a, b):
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        outs.append(sess.run(None, {sess.get_inputs()[0].name: feats[None]})[0])
    return float(np.max(np.abs(outs[0] - outs[1])))


def main() -> None:
    from mcuq.export import export
    from mcuq.qgraph import QGraph
    from mcuq.speech.data import calibration_array
    from mcuq.speech.robustness import Enhancement

    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT / "data" / "speech"))
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "calib.npy", calibration_array(corpus, "calib"))
        lopsided(MODEL, tmp / "lopsided.onnx")
        feats = np.load(tmp / "calib.npy")[0]
        diff = float_difference(MODEL, tmp / "lopsided.onnx", feats)
        rows = []
        for label, model, options in (
                ("original", MODEL, {}),
                ("original, --equalize", MODEL, {"equalize": True}),
                (f"channel {CHANNEL} x{FACTOR:g}", tmp / "lopsided.onnx", {}),
                (f"channel {CHANNEL} x{FACTOR:g}, --equalize", tmp / "lopsided.onnx",
                 {"equalize": True})):
            out = tmp / f"e{len(rows)}"
            report = export(model, tmp / "calib.npy", out, **options)
            q = QGraph.load(out)
            pesq = Enhancement(q, corpus, "test", args.limit, "pesq").score(q)
            lopsided_warning = any("--equalize" in w for w in report["warnings"])
            rows.append({"model": label, "pesq": round(pesq, 4),
                         "mask_sqnr_db": report["layers"][-1]["sqnr_db"],
                         "warns_lopsided": lopsided_warning})
            print(rows[-1], flush=True)
    command = f"python bench/equalize_speech.py --limit {args.limit}"
    lines = ["# Cross-layer equalization on the lopsided LSTM-256 (PESQ)", "",
             f"`{command}`: int8 exports (minmax), calibrated on the corpus's calib split, "
             f"PESQ-WB of the simulator's enhanced clips, mean over the first {args.limit} "
             f"test clips; mask SQNR from the export's report (calibration data). The "
             f"lopsided model's float output differs from the original's by at most "
             f"{diff:.2e} (ONNX Runtime, one calibration sequence).", "",
             "| model | PESQ | mask SQNR (dB) | export warns of the lopsided channel |",
             "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['model']} | {row['pesq']:.4f} | {row['mask_sqnr_db']} | "
                     f"{'yes' if row['warns_lopsided'] else 'no'} |")
    results = ROOT / "bench" / "results"
    (results / "equalize_speech.json").write_text(json.dumps(
        {"command": command, "float_max_difference": diff, "rows": rows}, indent=1) + "\n")
    (results / "equalize_speech.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

"""Weight outliers kept aside (--weight-outliers) against max and MSE ranges at low weight
bits, on the bundled RepVGG classifiers: top-1 and logit SQNR of int8 models at 4 and 6
weight bits, with and without CFWS, and what the side list costs in bits per weight of
the layers' weights (all int8 linear and convolution weights of the model), in the
bit-exact simulator, minmax activations, on held-out images.

    .venv/bin/python bench/weight_outliers.py             # both models, a few minutes
    .venv/bin/python bench/weight_outliers.py --quick     # fewer images

Writes bench/results/weight_outliers.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from repvgg_compare import MODELS, images  # noqa: E402

RULES = ("range=max", "range=mse", "outliers=0.005", "outliers=0.01", "outliers=0.02",
         "range=mse+outliers=0.01")


def dense_weights(path: Path, calib: np.ndarray) -> int:
    """The number of int8 weights the side list's bits are counted over: every weight of
    the deployed model's linear and convolution layers."""
    from mcuq.options import QuantOptions
    from mcuq.pipeline import import_model, prepared

    graph = prepared(import_model(path, calib)[1], QuantOptions())
    return int(sum(layer.weights["weight"].size for layer in graph.layers
                   if layer.kind in ("linear", "conv2d")))


def main() -> None:
    from mcuq.vision.evaluate import evaluate

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calib_n, test_n = (64, 100) if args.quick else (256, 400)
    configs = [f"int8+w{bits}{cfws}+{rule}" for bits in (4, 6) for cfws in ("", "+cfws")
               for rule in RULES]
    results = {}
    lines = ["# Weight outliers kept aside on RepVGG (--weight-outliers)", "",
             f"Made by `python bench/weight_outliers.py{' --quick' if args.quick else ''}`: "
             f"{calib_n} calibration and {test_n} held-out images per model, minmax "
             "activations, top-1 and logit SQNR of the bit-exact simulator against the "
             "float model (ONNX Runtime). `outliers=F` keeps round(F k) weights of each row "
             "of k aside (codes of the layer's outlier_bits, 8-bit gaps, a 16-bit count per "
             "row, packed) and takes the "
             "row's range (max, or mse where named) over the rest; `side list` is its cost "
             "in bits per weight of all linear and convolution weights (the dense codes "
             "cost the weight bits).", ""]
    for name, path in MODELS.items():
        calib = images(name, "train", calib_n)[0]
        x, y = images(name, "test", test_n)
        table = evaluate(path, calib, x, y, configs)
        weights = dense_weights(path, calib)
        rows = table["rows"][1:]
        lines += [f"## {name} (FP32 top-1 {100 * table['rows'][0]['top1']:.2f}%, "
                  f"{weights:,} weights)", "",
                  "| weight bits | CFWS | rule | top-1 | logit SQNR (dB) | side list (bits/weight) |",
                  "|---|---|---|---|---|---|"]
        for row in rows:
            parts = row["config"].split("+")
            bits, cfws = parts[1], "cfws" in parts
            rule = "+".join(p for p in parts[2:] if p != "cfws")
            extra = row["side_list_bits"] / weights
            row["side_list_bits_per_weight"] = round(extra, 4)
            lines.append(f"| {bits[1:]} | {'yes' if cfws else 'no'} | {rule} | "
                         f"{100 * row['top1']:.2f}% | {row['logit_sqnr_db']} | {extra:.3f} |")
        lines.append("")
        results[name] = table["rows"]
        print("\n".join(lines[-len(rows) - 4:]), flush=True)
    out = ROOT / "bench" / "results"
    (out / "weight_outliers.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "weight_outliers.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()

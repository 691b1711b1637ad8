"""Weight ranges (--weight-range) on the bundled RepVGG classifiers: top-1 and logit SQNR of
int8 models at 8, 6 and 4 weight bits with each row's range at its max, the MSE-optimal
range, the 99.9th percentile of |w|, or a fixed clip, with and without CFWS, minmax
activations, on held-out images, all in the bit-exact simulator.

    .venv/bin/python bench/weight_ranges.py             # both models, a few minutes
    .venv/bin/python bench/weight_ranges.py --quick     # fewer images

Writes bench/results/weight_ranges.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from repvgg_compare import MODELS, images  # noqa: E402

RULES = ("max", "mse", "percentile", "clip=0.5")


def main() -> None:
    from mcuq.vision.evaluate import evaluate

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calib_n, test_n = (64, 100) if args.quick else (256, 400)
    configs = [f"int8+w{bits}{cfws}+range={rule}" for bits in (8, 6, 4) for cfws in ("", "+cfws")
               for rule in RULES]
    results = {}
    lines = ["# Weight ranges on RepVGG (--weight-range)", "",
             f"Made by `python bench/weight_ranges.py{' --quick' if args.quick else ''}`: "
             f"{calib_n} calibration and {test_n} held-out images per model, minmax "
             "activations, top-1 and logit SQNR of the bit-exact simulator against the "
             "float model (ONNX Runtime). `clip=0.5` bounds every row at |w| <= 0.5.", ""]
    for name, path in MODELS.items():
        calib = images(name, "train", calib_n)[0]
        x, y = images(name, "test", test_n)
        table = evaluate(path, calib, x, y, configs)
        results[name] = table["rows"]
        lines += [f"## {name} (FP32 top-1 {100 * table['rows'][0]['top1']:.2f}%)", "",
                  "| weight bits | CFWS | range | top-1 | logit SQNR (dB) |", "|---|---|---|---|---|"]
        for row in table["rows"][1:]:
            bits, *rest = row["config"].split("+")[1:]
            rule = rest[-1][len("range="):]
            lines.append(f"| {bits[1:]} | {'yes' if 'cfws' in rest else 'no'} | {rule} | "
                         f"{100 * row['top1']:.2f}% | {row['logit_sqnr_db']} |")
        lines.append("")
        print("\n".join(lines[-len(table["rows"]) - 4:]), flush=True)
    out = ROOT / "bench" / "results"
    (out / "weight_ranges.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "weight_ranges.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()

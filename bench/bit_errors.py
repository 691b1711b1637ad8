"""Bit errors in weight memory (mcuq robustness) on the digits RepVGG and the LSTM-256
speech model: normal, post-training-clipped, MSE-range, equalized, outliers-aside and
training-time-clipped models, at 8 and 4 weight bits, all on the same seeded bit error
patterns.

    .venv/bin/python bench/bit_errors.py --scratch /tmp/be                 # both
    .venv/bin/python bench/bit_errors.py --scratch /tmp/be --only repvgg   # one
    .venv/bin/python bench/bit_errors.py --scratch /tmp/be --quick         # fewer items

The speech part needs a corpus (`mcuq corpus data/speech`, --corpus) and the training-
time-clipped models `examples/models/repvgg_digits_clipped.onnx` and
`examples/models/lstm256_clipped.onnx` (their commands: examples/train_repvgg.py and
examples/train_speech.py). Writes bench/results/bit_errors_<model>.{json,md,png}.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
MODELS = ROOT / "examples" / "models"

RATES = (1e-4, 1e-3, 3e-3, 1e-2)
# label -> (model file, export options); each at 8 bits and at 4 (with CFWS for RepVGG,
# whose 4-bit kernels need it: bench/results/weight_ranges.md)
REPVGG = {
    "normal": ("repvgg_digits.onnx", {}),
    "post-training clip (percentile 99.9)": ("repvgg_digits.onnx", {"weight_range": "percentile"}),
    "MSE range": ("repvgg_digits.onnx", {"weight_range": "mse"}),
    "equalized": ("repvgg_digits.onnx", {"equalize": True}),
    "trained with w_max 0.1": ("repvgg_digits_clipped.onnx", {}),
    "CFWS": ("repvgg_digits.onnx", {"cfws": True}),  # 8 bits only: the 4-bit rows have it
    "trained with w_max 0.1, CFWS": ("repvgg_digits_clipped.onnx", {"cfws": True}),
    "outliers aside 1%": ("repvgg_digits.onnx", {"weight_outliers": 0.01}),
    "MSE range, outliers aside 1%": ("repvgg_digits.onnx",
                                     {"weight_outliers": 0.01, "weight_range": "mse"}),
    "outliers aside 5%": ("repvgg_digits.onnx", {"weight_outliers": 0.05}),
    "trained with w_max 0.1, outliers aside 1%": ("repvgg_digits_clipped.onnx",
                                                  {"weight_outliers": 0.01}),
}
LSTM = {
    "normal": ("lstm256.onnx", {}),
    "post-training clip (percentile 99.9)": ("lstm256.onnx", {"weight_range": "percentile"}),
    "MSE range": ("lstm256.onnx", {"weight_range": "mse"}),
    "equalized": ("lstm256.onnx", {"equalize": True}),
    "fine-tuned with w_max 0.25": ("lstm256_clipped.onnx", {}),
    "outliers aside 1% (linear layers)": ("lstm256.onnx", {"weight_outliers": 0.01}),
}


def export_all(table: dict, calib: Path, scratch: Path, four_bit: dict) -> dict:
    from mcuq.export import export

    exports = {}
    for bits in (8, 4):
        for label, (model, options) in table.items():
            if bits == 4 and options.get("cfws"):
                continue
            out = scratch / f"{label.split()[0].lower()}_{len(exports)}"
            extra = {"weight_bits": 4, **four_bit} if bits == 4 else {}
            if not (MODELS / model).is_file():
                print(f"skipping {label}: {MODELS / model} is missing (see the docstring)")
                continue
            export(MODELS / model, calib, out, force=True, **options, **extra)
            exports[f"{label}, {bits}-bit"] = out
    return exports


def run(name: str, table: dict, calib: Path, data: str, args, four_bit: dict,
        task_args: dict) -> None:
    from mcuq.qgraph import QGraph
    from mcuq.robustness import figure, markdown, sweep
    from mcuq.speech.robustness import Enhancement
    from mcuq.vision.robustness import Classification

    scratch = Path(args.scratch) / name
    scratch.mkdir(parents=True, exist_ok=True)
    exports = export_all(table, calib, scratch, four_bit)
    models = {}
    for label, out in exports.items():
        q = QGraph.load(out)
        models[label] = (q, Classification(q, data, None) if name == "repvgg" else
                         Enhancement(q, Path(data), "test", task_args["limit"], "pesq"))
    result = sweep(models, list(RATES), task_args["patterns"], seed=0)
    command = f"python bench/bit_errors.py --scratch {args.scratch} --only {name}" + (
        " --quick" if args.quick else "")
    out = ROOT / "bench" / "results"
    (out / f"bit_errors_{name}.json").write_text(json.dumps({**result, "command": command},
                                                            indent=1) + "\n")
    (out / f"bit_errors_{name}.md").write_text(markdown(result, command))
    figure(result, out / f"bit_errors_{name}.png")
    print(markdown(result, command), flush=True)


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--only", choices=["repvgg", "lstm"])
    parser.add_argument("--corpus", default=str(ROOT / "data" / "speech"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "repvgg"):
        from repvgg_compare import images

        calib = scratch / "digits_calib.npy"
        np.save(calib, images("digits", "train", 256)[0])
        xt, yt = images("digits", "test", 100 if args.quick else 400)
        np.savez(scratch / "digits_test.npz", x=xt, labels=yt)
        run("repvgg", REPVGG, calib, str(scratch / "digits_test.npz"), args, {"cfws": True},
            {"limit": None, "metric": None, "patterns": 5 if args.quick else 20})
    if args.only in (None, "lstm"):
        calib = Path(args.corpus) / "calib_features.npy"
        run("lstm", LSTM, calib, args.corpus, args, {},
            {"limit": 3 if args.quick else 8, "metric": "pesq",
             "patterns": 3 if args.quick else 8})


if __name__ == "__main__":
    main()

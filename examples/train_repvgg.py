"""Train the bundled RepVGG examples (committed; rerun to regenerate, about 10 minutes on
2 cores):

    .venv/bin/python examples/train_repvgg.py
    .venv/bin/python examples/train_repvgg.py digits --w-max 0.1   # the clipped one

Writes examples/models/repvgg_digits.onnx (1 x 32 x 32 input: scikit-learn's digits,
upscaled and augmented) and examples/models/repvgg_shapes.onnx (3 x 32 x 32: the
procedural shapes set), both RepVGG-A0 stage depths at width 0.25, exported in their
train-time form (three branches per block; mcuq fuses them), and prints float top-1 on
the test splits. With --w-max W, every conv and linear weight is clipped to [-W, W]
after each step (Stutz et al.'s training-time clipping, for bit error robustness,
docs/robustness.md) and the model is written as repvgg_<set>_clipped.onnx.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import torch

from mcuq.vision.datasets import digits, shapes
from mcuq.vision.models import RepVGG
from mcuq.vision.train import top1, train

HERE = Path(__file__).resolve().parent
SETS = {"digits": (lambda: digits("train", copies=4), lambda: digits("test"), 1, 30),
        "shapes": (lambda: shapes("train", 8000), lambda: shapes("test", 1000), 3, 30)}


def main(names, w_max: float | None = None) -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    (HERE / "models").mkdir(exist_ok=True)
    for name in names:
        train_set, test_set, channels, epochs = SETS[name]
        x, y = train_set()
        xt, yt = test_set()
        model = RepVGG(channels, 10, width=0.25)
        train(model, x, y, epochs=epochs, seed=1, w_max=w_max)
        print(f"{name}: float top-1 {top1(model, xt, yt):.4f} (train-time), "
              f"{top1(model.deploy(), xt, yt):.4f} (PyTorch-fused)")
        torch.onnx.export(model, (torch.zeros(1, channels, 32, 32),),
                          HERE / "models" / f"repvgg_{name}{'_clipped' if w_max else ''}.onnx",
                          dynamo=False,
                          input_names=["image"], output_names=["logits"])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", help=f"of {', '.join(SETS)} (default: all)")
    ap.add_argument("--w-max", type=float, help="clip the weights to [-W_MAX, W_MAX] in training")
    args = ap.parse_args()
    for name in args.sets:
        if name not in SETS:
            ap.error(f"no set {name!r}; choose from {', '.join(SETS)}")
    main(args.sets or list(SETS), args.w_max)

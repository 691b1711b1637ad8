"""The child process that traces a TorchScript model to ONNX (see
mcuq.frontend.load._torchscript_to_onnx): argv PATH OUT FRAMES FEATURES IMAGE, where
IMAGE is "C,H,W" or empty. Writes OUT, or prints a one-line error and exits 3."""
from __future__ import annotations

import sys
from pathlib import Path

import onnx

from mcuq.errors import McuqError
from mcuq.frontend.load import torchscript_to_onnx_here


def main(argv: list[str]) -> int:
    path, out, frames, features, image = argv
    shape = tuple(int(v) for v in image.split(",")) if image else None
    try:
        model = torchscript_to_onnx_here(Path(path), int(frames), int(features), shape)
    except McuqError as exc:
        print(str(exc).replace("\n", " "))
        return 3
    onnx.save(model, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Make the bundled example models and data (committed; rerun to regenerate).

    python examples/make_models.py

Writes examples/models/{gru,lstm}_small.{pt,onnx} (TorchScript and ONNX) and
examples/data/{calib,test}_small.npy: speech-enhancement-shaped models (257 bins
-> FC 96 + ReLU -> 2 x GRU/LSTM(96) -> FC 257 + sigmoid mask), trained for a few
hundred steps on synthetic spectra (mcuq.speech.synthetic).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from mcuq.speech.models import SpeechMaskNet
from mcuq.speech.synthetic import spectral_pairs, train_quick

HERE = Path(__file__).resolve().parent


def main() -> None:
    warnings.filterwarnings("ignore")
    (HERE / "models").mkdir(exist_ok=True)
    (HERE / "data").mkdir(exist_ok=True)
    calib, _ = spectral_pairs(8, 100, seed=101)
    test, _ = spectral_pairs(4, 100, seed=202)
    np.save(HERE / "data" / "calib_small.npy", calib)
    np.save(HERE / "data" / "test_small.npy", test)
    for kind in ("gru", "lstm"):
        torch.manual_seed(1)
        model = SpeechMaskNet(kind)
        loss = train_quick(model)
        model.eval()
        example = torch.from_numpy(calib[:1])
        torch.jit.save(torch.jit.trace(model, example), HERE / "models" / f"{kind}_small.pt")
        torch.onnx.export(model, (example,), HERE / "models" / f"{kind}_small.onnx",
                          dynamo=False, input_names=["features"], output_names=["mask"],
                          dynamic_axes={"features": {1: "time"}, "mask": {1: "time"}})
        print(f"{kind}: final training loss {loss:.4f}")


if __name__ == "__main__":
    main()

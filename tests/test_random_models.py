"""Random models, a new set every run: 100 networks of random structure and odd sizes
(1 included), saved by a random exporter, exported at a random precision for a random
core count, and verified bit-exact on the host; 10 of them also on RV32 under QEMU.

The seeds change per run (MCUQ_TEST_SEED fixes them); a failure prints its seed and the
command that repeats it."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch
from torch import nn

from conftest import EXPORTERS, random_sequences, save_model
from mcuq.export import export
from mcuq.verify import verify

MODELS = 100
ON_QEMU = 10
BASE_SEED = int(os.environ.get("MCUQ_TEST_SEED", int(time.time()) % 1_000_000))
PRECISIONS = ("int8", "fp16", "mixed")


class Recurrent(nn.Module):
    """[Linear (+ReLU)] -> 1 or 2 GRU/LSTM -> [Linear] -> [sigmoid|tanh]."""

    def __init__(self, rng, features):
        super().__init__()
        width = features
        self.fc_in = None
        if rng.random() < 0.7:
            out = int(rng.integers(1, 20))
            self.fc_in, self.relu, width = nn.Linear(width, out), rng.random() < 0.6, out
        self.rnns = nn.ModuleList()
        for _ in range(int(rng.integers(1, 3))):
            hidden = int(rng.integers(1, 20))
            cls = nn.GRU if rng.random() < 0.5 else nn.LSTM
            self.rnns.append(cls(width, hidden, batch_first=True))
            width = hidden
        self.fc_out = nn.Linear(width, int(rng.integers(1, 20))) if rng.random() < 0.7 else None
        self.head = str(rng.choice(["sigmoid", "tanh", "none"]))

    def forward(self, x):
        if self.fc_in is not None:
            x = self.fc_in(x)
            x = torch.relu(x) if self.relu else x
        for rnn in self.rnns:
            x = rnn(x)[0]
        if self.fc_out is not None:
            x = self.fc_out(x)
        return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "none": lambda v: v}[self.head](x)


class FrameWise(nn.Module):
    """Linear layers with a residual Add and a Concat of two branches."""

    def __init__(self, rng, features):
        super().__init__()
        self.a = nn.Linear(features, features)
        self.b = nn.Linear(features, int(rng.integers(1, 16)))
        self.c = nn.Linear(features, int(rng.integers(1, 16)))
        self.act = str(rng.choice(["relu", "tanh", "sigmoid"]))

    def forward(self, x):
        act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[self.act]
        h = x + act(self.a(x))
        return torch.cat([self.b(h), torch.tanh(self.c(h))], dim=-1)


def spec(index: int) -> dict:
    rng = np.random.default_rng(BASE_SEED + index)
    recurrent = rng.random() < 0.75
    features = int(rng.integers(1, 24))
    torch.manual_seed(BASE_SEED + index)
    model = (Recurrent if recurrent else FrameWise)(rng, features).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(float(rng.uniform(0.5, 2.5)))
    exporters = EXPORTERS if recurrent else ("onnx_legacy", "onnx_dynamo", "torch_export")
    return {"model": model, "recurrent": recurrent, "features": features,
            "frames": int(rng.integers(1, 12)), "items": int(rng.integers(1, 4)),
            "exporter": str(rng.choice(exporters)), "precision": str(rng.choice(PRECISIONS)),
            "cores": int(rng.integers(1, 9)), "seed": BASE_SEED + index}


@pytest.mark.parametrize("index", range(MODELS))
def test_random_model_is_bit_exact(tmp_path, index):
    s = spec(index)
    repeat = (f"model {index}, seed {s['seed']} ({'recurrent' if s['recurrent'] else 'frame-wise'}, "
              f"{s['exporter']}, {s['precision']}, {s['cores']} cores, {s['frames']} frames): "
              f"repeat with MCUQ_TEST_SEED={BASE_SEED} .venv/bin/python -m pytest "
              f"'tests/test_random_models.py::test_random_model_is_bit_exact[{index}]'")
    try:
        check(tmp_path, index, s)
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}; {repeat}")


def check(tmp_path, index: int, s: dict) -> None:
    shape = (1, s["frames"], s["features"]) if s["recurrent"] else (1, s["features"])
    path = save_model(s["model"], torch.zeros(shape), s["exporter"], tmp_path / "m",
                      dynamic_time=s["recurrent"])
    data = random_sequences(s["items"], s["frames"], s["features"], seed=s["seed"])
    if not s["recurrent"]:
        data = data.reshape(-1, s["features"])  # one item per frame
    np.save(tmp_path / "calib.npy", data)
    export(path, tmp_path / "calib.npy", tmp_path / "out", precision=s["precision"],
           cores=s["cores"])
    frames = data[0] if s["recurrent"] else data
    targets = ("host", "qemu") if index < ON_QEMU else ("host",)
    for target in targets:
        summary = verify(tmp_path / "out", target, frames)
        assert summary["bit_exact"] and summary["cores"] == s["cores"], f"{target}: {summary}"

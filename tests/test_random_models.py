"""Random models, a new set every run: 100 networks of random structure and odd sizes
(1 included; recurrent, frame-wise and convolutional image models), saved by a random
exporter, exported at a random precision, calibration method and weight width, with or
without CFWS, for a random core count, and verified bit-exact on the host; 10 of them
also on RV32 under QEMU.

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
from mcuq.ranges import METHODS
from mcuq.verify import verify

MODELS = 50  # a fresh set every run (the seed is the time), so coverage adds up over runs
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


class Image(nn.Module):
    """1-3 blocks of Conv (+BatchNorm) (+ReLU) / depthwise Conv (+ReLU) / MaxPool at
    random kernels, strides and padding, then a pooled or flattened Linear head."""

    def __init__(self, rng, channels, size):
        super().__init__()
        layers, c, (h, w) = [], channels, size
        for _ in range(int(rng.integers(1, 4))):
            kind = str(rng.choice(["conv", "depthwise", "maxpool"]))
            k = int(rng.choice([1, 3])) if kind == "conv" else 3 if kind == "depthwise" else 2
            s = int(rng.choice([1, 2]))
            p = k // 2 if kind != "maxpool" and rng.random() < 0.7 else 0
            if min(h, w) + 2 * p < k:
                continue
            if kind == "conv":
                out = int(rng.integers(1, 12))
                layers.append(nn.Conv2d(c, out, k, stride=s, padding=p, bias=rng.random() < 0.5))
                if rng.random() < 0.5:
                    bn = nn.BatchNorm2d(out)
                    bn.running_mean.uniform_(-0.5, 0.5)
                    bn.running_var.uniform_(0.5, 2.0)
                    layers.append(bn)
                c = out
            elif kind == "depthwise":
                layers.append(nn.Conv2d(c, c, k, stride=s, padding=p, groups=c))
            else:
                layers.append(nn.MaxPool2d(k, stride=s))
            if kind != "maxpool" and rng.random() < 0.6:
                layers.append(nn.ReLU())
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        if rng.random() < 0.5:
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, int(rng.integers(1, 11)))]
        else:
            layers += [nn.Flatten(), nn.Linear(c * h * w, int(rng.integers(1, 11)))]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def spec(index: int) -> dict:
    rng = np.random.default_rng(BASE_SEED + index)
    family = str(rng.choice(["recurrent", "frame-wise", "image"], p=[0.6, 0.15, 0.25]))
    recurrent = family == "recurrent"
    features = int(rng.integers(1, 24))
    image = (int(rng.integers(1, 6)), int(rng.integers(3, 13)), int(rng.integers(3, 13)))
    torch.manual_seed(BASE_SEED + index)
    with torch.no_grad():
        model = (Image(rng, image[0], image[1:]) if family == "image" else
                 (Recurrent if recurrent else FrameWise)(rng, features)).eval()
        for p in model.parameters():
            p.mul_(float(rng.uniform(0.5, 2.5)))
    exporters = EXPORTERS if family != "frame-wise" else ("onnx_legacy", "onnx_dynamo",
                                                          "torch_export")
    return {"model": model, "family": family, "recurrent": recurrent, "features": features,
            "image": image,
            "frames": int(rng.integers(1, 12)), "items": int(rng.integers(1, 4)),
            "exporter": str(rng.choice(exporters)), "precision": str(rng.choice(PRECISIONS)),
            "cores": int(rng.integers(1, 9)), "seed": BASE_SEED + index,
            "calib_method": str(rng.choice(METHODS)), "cfws": bool(rng.random() < 0.4),
            "weight_bits": int(rng.choice([8, 8, 6, 4]))}


@pytest.mark.parametrize("index", range(MODELS))
def test_random_model_is_bit_exact(tmp_path, index):
    s = spec(index)
    repeat = (f"model {index}, seed {s['seed']} ({s['family']}, "
              f"{s['exporter']}, {s['precision']}, {s['calib_method']}, cfws {s['cfws']}, "
              f"{s['weight_bits']}-bit weights, {s['cores']} cores, {s['frames']} frames): "
              f"repeat with MCUQ_TEST_SEED={BASE_SEED} .venv/bin/python -m pytest "
              f"'tests/test_random_models.py::test_random_model_is_bit_exact[{index}]'")
    try:
        check(tmp_path, index, s)
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__}: {exc}; {repeat}")


def check(tmp_path, index: int, s: dict) -> None:
    shape = ((1, s["frames"], s["features"]) if s["recurrent"] else
             (1, *s["image"]) if s["family"] == "image" else (1, s["features"]))
    path = save_model(s["model"], torch.zeros(shape), s["exporter"], tmp_path / "m",
                      dynamic_time=s["recurrent"])
    if s["family"] == "image":  # one image per frame
        rng = np.random.default_rng(s["seed"])
        data = (rng.standard_normal((s["items"] * s["frames"], *s["image"])) + 0.3).astype(
            np.float32)
    else:
        data = random_sequences(s["items"], s["frames"], s["features"], seed=s["seed"])
    if s["family"] == "frame-wise":
        data = data.reshape(-1, s["features"])  # one item per frame
    np.save(tmp_path / "calib.npy", data)
    export(path, tmp_path / "calib.npy", tmp_path / "out", precision=s["precision"],
           cores=s["cores"], calib_method=s["calib_method"], cfws=s["cfws"],
           weight_bits=s["weight_bits"])
    frames = data[0] if s["recurrent"] else data
    targets = ("host", "qemu") if index < ON_QEMU else ("host",)
    for target in targets:
        summary = verify(tmp_path / "out", target, frames)
        assert summary["bit_exact"] and summary["cores"] == s["cores"], f"{target}: {summary}"

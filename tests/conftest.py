"""Shared helpers: small random recurrent models and the three ways to save them."""
from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

EXPORTERS = ("onnx_legacy", "onnx_dynamo", "torchscript", "torch_export")


class Stack(nn.Module):
    """FC + ReLU -> a stack of GRU/LSTM layers (each its own module) -> FC [-> sigmoid]."""

    def __init__(self, features: int, fc: int, rnns, out: int, batch_first: bool = True,
                 head: str = "sigmoid"):
        super().__init__()
        self.batch_first = batch_first
        self.fc_in = nn.Linear(features, fc)
        layers, width = [], fc
        for kind, hidden in rnns:
            cls = nn.GRU if kind == "gru" else nn.LSTM
            layers.append(cls(width, hidden, batch_first=batch_first))
            width = hidden
        self.rnns = nn.ModuleList(layers)
        self.fc_out = nn.Linear(width, out)
        self.head = head

    def forward(self, x):
        y = torch.relu(self.fc_in(x))
        for rnn in self.rnns:
            y, _ = rnn(y)
        y = self.fc_out(y)
        return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "none": lambda v: v}[self.head](y)


def make_stack(seed: int, features: int, fc: int, rnns, out: int, **kw) -> Stack:
    torch.manual_seed(seed)
    model = Stack(features, fc, rnns, out, **kw).eval()
    with torch.no_grad():  # larger than default init, so gates leave their linear region
        for p in model.parameters():
            p.mul_(2.0)
    return model


def save_model(model: nn.Module, example: torch.Tensor, exporter: str, path: Path,
               dynamic_time: bool = True) -> Path:
    """Save `model` the way a user would with one of the supported exporters."""
    path = Path(path)
    sink = io.StringIO()
    time_axis = 1 if getattr(model, "batch_first", True) else 0
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        if exporter == "onnx_legacy":
            path = path.with_suffix(".onnx")
            dyn = {"x": {time_axis: "time"}} if dynamic_time else None
            torch.onnx.export(model, (example,), path, dynamo=False, input_names=["x"],
                              dynamic_axes=dyn)
        elif exporter == "onnx_dynamo":
            path = path.with_suffix(".onnx")
            torch.onnx.export(model, (example,), path, dynamo=True)
        elif exporter == "torchscript":
            path = path.with_suffix(".pt")
            torch.jit.save(torch.jit.trace(model, example), path)
        elif exporter == "torch_export":
            path = path.with_suffix(".pt2")
            torch.export.save(torch.export.export(model, (example,)), path)
        else:
            raise ValueError(exporter)
    return path


# clang-19 for the CV32E40P RTL with the XCV extensions, as firmware/harness/Makefile
# builds an xcv export for --target rtl (RTL_CFLAGS there)
RTL_CLANG = ["clang-19", "--target=riscv32-unknown-elf",
             "-march=rv32imc_zicsr_xcvsimd_xcvmac_xcvmem_xcvbi_xcvalu", "-mabi=ilp32", "-O2",
             "-isystem", "/usr/lib/picolibc/riscv64-unknown-elf/include"]


def random_sequences(items: int, frames: int, features: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # a slowly varying signal plus noise, offset so the input zero point is not 0
    base = np.cumsum(rng.standard_normal((items, frames, features)), axis=1) * 0.2
    return (base + rng.standard_normal((items, frames, features)) + 0.5).astype(np.float32)


# the longest tests start first, so that the suite's two workers end together
SLOW_FIRST = ("tests/test_readme.py::test_every_readme_command_runs_as_written",
              "tests/test_sanitizers.py", "tests/test_speech.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"

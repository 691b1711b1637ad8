"""The per-op test: a model of (about) one layer with odd sizes, exported at a precision,
verified on the host and on RV32 under QEMU, on 1 and 8 cores: every output byte == the
simulator. The quantized-vs-float quality is measured loosely, to catch a twin and a
kernel that agree with each other but not with the maths."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from conftest import random_sequences, save_model
from mcuq.export import export
from mcuq.qgraph import QGraph
from mcuq.verify import verify

CORES = (1, 8)
TARGETS = ("host", "qemu")
# loose floors of the per-layer SQNR (dB) against the float model: a wrong scale or
# rounding rule costs far more than this, quantization noise far less
MIN_SQNR = {"int8": 20.0, "fp16": 40.0}


def frame_data(items: int, shape, seed: int) -> np.ndarray:
    """(items, *shape) frames, offset so the input zero point is not 0."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((items, *shape)) * 1.5 + 0.4).astype(np.float32)


def check_op(tmp_path: Path, model: torch.nn.Module, kind: str, precision: str, *,
             exporter: str = "onnx_legacy", shape=(13,), time: int | None = None,
             items: int = 11, overrides: dict | None = None, seed: int = 0) -> QGraph:
    """Export `model` (input (1, *shape), or (1, time, *shape) for a recurrent model) at
    `precision`, check it holds a `kind` layer at that precision, and verify it bit-exact
    on both targets and core counts. Returns the quantized graph."""
    model = model.eval()
    if time is None:
        example = torch.zeros(1, *shape)
        data = frame_data(items, shape, seed)
        frames = data  # one item per frame
    else:
        example = torch.zeros(1, time, *shape)
        data = random_sequences(items, time, shape[0], seed)
        frames = data[0]
    path = save_model(model, example, exporter, tmp_path / "model", dynamic_time=time is not None)
    np.save(tmp_path / "calib.npy", data)
    out = tmp_path / f"out_{precision}"
    export(path, tmp_path / "calib.npy", out, precision=precision, overrides=overrides, cores=3)
    qgraph = QGraph.load(out)
    assert any(layer.kind == kind and layer.params["precision"] == precision
               for layer in qgraph.layers), [(q.kind, q.params["precision"]) for q in qgraph.layers]
    report = json.loads((out / "report.json").read_text())
    # errors accumulate from the input on: an fp16 layer after an int8 one has int8 noise
    floor = min(MIN_SQNR[row["precision"]] for row in report["layers"])
    for row in report["layers"]:
        assert row["sqnr_db"] > floor, row
    want = frames.shape[0] * qgraph.tensor_bytes(qgraph.output)
    for target in TARGETS:
        for cores in CORES:
            summary = verify(out, target, frames, cores=cores)
            assert summary["cores"] == cores and summary["compared_bytes"] == want
            assert summary["mismatched_bytes"] == 0 and summary["bit_exact"] is True, summary
    return qgraph

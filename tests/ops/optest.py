"""The per-op test: a model of (about) one layer with odd sizes, exported at a precision,
verified on the host and on RV32 under QEMU, on 1 and 8 cores: every output byte == the
simulator; and the host engine (mcuq/engine.py, the same C as a library) == the simulator
on every calibration item. The quantized-vs-float quality is measured loosely, to catch a twin and a
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
    return export_and_verify(tmp_path, path, data, frames, kind, precision, overrides)


def export_and_verify(tmp_path: Path, path: Path, data: np.ndarray, frames: np.ndarray, kind: str,
                      precision: str, overrides: dict | None = None,
                      min_sqnr: dict | None = None, **options) -> QGraph:
    """Export the model file at `precision` (calibrated on `data`), check it holds a `kind`
    layer at that precision and the SQNR floor, and verify `frames` on both targets and
    core counts. `options` go to export (e.g. cfws=True, weight_bits=6)."""
    np.save(tmp_path / "calib.npy", data)
    out = tmp_path / f"out_{precision}"
    export(path, tmp_path / "calib.npy", out, precision=precision, overrides=overrides, cores=3,
           **options)
    qgraph = QGraph.load(out)
    assert any(layer.kind == kind and layer.params["precision"] == precision
               for layer in qgraph.layers), [(q.kind, q.params["precision"]) for q in qgraph.layers]
    report = json.loads((out / "report.json").read_text())
    # errors accumulate from the input on: an fp16 layer after an int8 one has int8 noise
    floor = min((min_sqnr or MIN_SQNR)[row["precision"]] for row in report["layers"])
    for row in report["layers"]:
        assert row["sqnr_db"] > floor, row
    want = frames.shape[0] * qgraph.tensor_bytes(qgraph.output)
    for target in TARGETS:
        for cores in CORES:
            summary = verify(out, target, frames, cores=cores)
            assert summary["cores"] == cores and summary["compared_bytes"] == want
            assert summary["mismatched_bytes"] == 0 and summary["bit_exact"] is True, summary
    engine_matches_simulator(qgraph, data)
    return qgraph


def engine_matches_simulator(qgraph: QGraph, data: np.ndarray) -> None:
    """The C engine's output bytes == the simulator's on `data` (items, [time,] *shape),
    the items spread over two library copies in two threads."""
    from mcuq.data import as_sequences
    from mcuq.engine import CModel
    from mcuq.simulate import Simulator

    sequences = as_sequences(data, qgraph.input_tensor.shape, qgraph.meta["recurrent"])
    sim = Simulator(qgraph)
    x_q = sim.quantize_input(sequences)
    want = sim.run_device(x_q)
    engine = CModel(qgraph, threads=2)
    try:
        got = engine.run_device(x_q)
    finally:
        engine.close()
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes(), "the C engine differs from the simulator"


def onnx_rnn(op_type: str, features: int, hidden: int, seed: int, peepholes: bool = False,
             **attrs):
    """A single ONNX GRU, LSTM or RNN written by hand (for the forms PyTorch does not
    export: linear_before_reset=0, peepholes), (time, 1, features) -> (time, 1, hidden),
    or bidirectional (time, 2, hidden)."""
    from onnx import TensorProto, helper, numpy_helper

    gates = {"GRU": 3, "LSTM": 4, "RNN": 1}[op_type]
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    rng = np.random.default_rng(seed)
    inits = {"W": rng.standard_normal((dirs, gates * hidden, features)) * 0.6,
             "R": rng.standard_normal((dirs, gates * hidden, hidden)) * 0.6,
             "B": rng.standard_normal((dirs, 2 * gates * hidden)) * 0.3}
    inputs = ["x", "W", "R", "B"]
    if peepholes:
        inits["P"] = rng.standard_normal((1, 3 * hidden)) * 0.8
        inputs += ["", "", "", "P"]
    node = helper.make_node(op_type, inputs, ["y"], name="rnn", hidden_size=hidden, **attrs)
    squeeze = helper.make_node("Squeeze", ["y", "axes"], ["out"], name="sq")
    graph = helper.make_graph(
        [node, squeeze], "rnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["time", 1, features])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["time", dirs, hidden])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()]
        + [numpy_helper.from_array(np.array([dirs], np.int64), "axes")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def float_matches_onnxruntime(model, features: int, frames: int = 13):
    """The float reference of mcuq's import against ONNX Runtime on the same sequence (a
    float comparison: another summation order, rounding-level agreement); returns the
    imported graph."""
    import onnxruntime as ort

    from mcuq.frontend import import_onnx
    from mcuq.reference import FloatModel

    graph = import_onnx(model)
    seq = random_sequences(1, frames, features, seed=3)[0]
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": seq[:, None]})[0][:, 0]
    np.testing.assert_allclose(FloatModel(graph).run(seq[None])[0], want, rtol=0, atol=2e-5)
    return graph


def check_onnx_rnn(tmp_path: Path, model, kind: str, precision: str, features: int,
                   min_sqnr: dict | None = None) -> QGraph:
    """check_op for a hand-written recurrent ONNX model."""
    import onnx

    onnx.save(model, tmp_path / "m.onnx")
    return export_and_verify(tmp_path, tmp_path / "m.onnx", random_sequences(4, 9, features, 5),
                             random_sequences(1, 9, features, 6)[0], kind, precision,
                             min_sqnr=min_sqnr)


def float_matches_onnxruntime_on_images(path: Path, images: np.ndarray):
    """mcuq's float reference of the model file equals ONNX Runtime on its ONNX form,
    image by image; returns the imported graph."""
    from mcuq.pipeline import import_model
    from passtest import float_frames, ort_frames

    onnx_model, graph = import_model(path, images)
    np.testing.assert_allclose(float_frames(graph, images), ort_frames(onnx_model, images),
                               rtol=0, atol=5e-5)
    return graph

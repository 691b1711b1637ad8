"""The core path shared by every command that builds a quantized model:
model file -> IR (import + graph passes) -> calibration -> quantized graph."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from mcuq.calibrate import DEFAULT_METHOD, calibrate
from mcuq.data import as_sequences, batches
from mcuq.errors import McuqError
from mcuq.fixedpoint import WEIGHT_BITS
from mcuq.frontend import load_model
from mcuq.ir import Graph
from mcuq.qgraph import QGraph
from mcuq.quantize import assign_precisions, quantize_graph


def import_model(model_path: Path, calib_raw: np.ndarray) -> tuple[onnx.ModelProto, Graph]:
    """The model as ONNX and as the IR after the graph passes. The calibration data tells
    a TorchScript model its input width (TorchScript does not store it)."""
    features = calib_raw.shape[-1] if calib_raw.ndim >= 2 else None
    frames = calib_raw.shape[1] if calib_raw.ndim == 3 else 16
    image = tuple(calib_raw.shape[1:]) if calib_raw.ndim == 4 else None
    return load_model(Path(model_path), features=features, frames=frames, image=image)


def sequences_for(graph: Graph, raw: np.ndarray, what: str) -> np.ndarray:
    """Data as (items, time, *input shape) float32, checked against the model input."""
    return as_sequences(raw, graph.input_shape, graph.recurrent, what)


def quantize_model(graph: Graph, calib: np.ndarray, name: str = "model",
                   precision: str = "int8", overrides: dict | None = None,
                   calib_method: str = DEFAULT_METHOD, percentile: float = 99.99,
                   weight_bits: int = 8, cfws: bool = False, headroom_db: float = 0.0
                   ) -> tuple[QGraph, dict]:
    """Calibrate on `calib` (items, time, *input shape) by `calib_method` and quantize
    by the recipe."""
    stats = calibrate(graph, batches(calib), calib_method, percentile=percentile,
                      headroom_db=headroom_db)
    if weight_bits not in WEIGHT_BITS:
        raise McuqError(f"--weight-bits {weight_bits}: use 2 to 8")
    qgraph = quantize_graph(graph, stats, name, assign_precisions(graph, precision, overrides),
                            {"weight_bits": int(weight_bits), "cfws": bool(cfws)})
    qgraph.meta["precision"] = precision
    qgraph.meta["calib_method"] = calib_method
    return qgraph, stats


def unused_options(qgraph: QGraph, weight_bits: int, cfws: bool) -> list[str]:
    """Options that change nothing in this model, said as warnings rather than ignored in
    silence (a sweep may apply one set of options to many models)."""
    lines = []
    if cfws and not any(layer.kind == "conv2d_cfws" for layer in qgraph.layers):
        lines.append("--cfws changed nothing: it splits int8 square convolutions of kernel 3 "
                     "or more, and this model has none at int8")
    weighted = [layer for layer in qgraph.layers if layer.params.get("precision") == "int8"
                and any(a.dtype == np.int8 and a.ndim >= 2 for a in layer.arrays.values())]
    if weight_bits != 8 and not weighted:
        lines.append(f"--weight-bits {weight_bits} changed nothing: it applies to int8 layers "
                     "with weights, and this model has none at int8")
    return lines


def export_float_graph(out_dir: Path, qgraph: QGraph) -> Graph | None:
    """The float graph an export was quantized from, re-imported from its model.onnx, for
    counting clipping beside the simulator; None when it cannot be had (then only the
    model input is checked)."""
    path = Path(out_dir) / "model.onnx"
    try:
        _, graph = load_model(path)
    except (McuqError, OSError):
        return None
    names = {layer.name for layer in qgraph.layers if layer.kind != "convert"}
    if names != {layer.name for layer in graph.layers}:
        return None
    return graph

"""The core path shared by every command that builds a quantized model:
model file -> IR (import + graph passes) -> calibration -> quantized graph."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from mcuq.calibrate import calibrate_minmax
from mcuq.data import as_sequences, batches
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
                   precision: str = "int8", overrides: dict | None = None
                   ) -> tuple[QGraph, dict]:
    """Calibrate on `calib` (items, time, *input shape) and quantize by the recipe."""
    stats = calibrate_minmax(graph, batches(calib))
    qgraph = quantize_graph(graph, stats, name, assign_precisions(graph, precision, overrides))
    qgraph.meta["precision"] = precision
    return qgraph, stats

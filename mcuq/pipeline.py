"""The core path shared by every command that builds a quantized model:
model file -> IR (import + graph passes) -> calibration -> quantized graph."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx

from mcuq import outliers as outlier_list
from mcuq.calibrate import calibrate
from mcuq.data import as_sequences, batches
from mcuq.errors import McuqError
from mcuq.frontend import load_model
from mcuq.ir import Graph, Layer
from mcuq.ops import op
from mcuq.options import QuantOptions
from mcuq.passes import equalize
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


def prepared(graph: Graph, options: QuantOptions) -> Graph:
    """The graph the options quantize: with --equalize a copy, equalized (the float
    function unchanged); else the graph itself."""
    if not options.equalize:
        return graph
    graph = equalize(copy.deepcopy(graph))
    graph.passes.append("equalize")
    return graph


def quantize_model(graph: Graph, calib: np.ndarray, name: str = "model",
                   options: QuantOptions | None = None) -> tuple[QGraph, dict]:
    """Calibrate on `calib` (items, time, *input shape) by the options' method and quantize
    by their recipe."""
    options = (options or QuantOptions()).checked()
    stats = calibration(graph, calib, options)
    return quantize_with(graph, stats, name, options), stats


def calibration(graph: Graph, calib: np.ndarray, options: QuantOptions) -> dict:
    """The calibration statistics of `calib` by the options' method (the layers a
    precision file names are checked first)."""
    options.check_layers(graph)
    return calibrate(graph, batches(calib), options.calib_method,
                     percentile=options.percentile, headroom_db=options.headroom_db)


def quantize_with(graph: Graph, stats: dict, name: str, options: QuantOptions) -> QGraph:
    """Quantize by the options' recipe from calibration statistics already gathered (one
    calibration serves every precision assignment: mcuq.budget)."""
    base = options.recipe(Layer(kind="", name="", inputs=[], outputs=[]))
    qgraph = quantize_graph(graph, stats, name,
                            assign_precisions(graph, options.precision, options.precisions()),
                            base, layer_recipe=options.recipe)
    qgraph.meta["precision"] = options.precision
    qgraph.meta["calib_method"] = options.calib_method
    return qgraph


def unused_options(qgraph: QGraph, options: QuantOptions) -> list[str]:
    """Options that change nothing in this model, said as warnings rather than ignored in
    silence (a sweep may apply one set of options to many models)."""
    lines = []
    if options.cfws and not any(layer.kind.endswith("_cfws") for layer in qgraph.layers):
        lines.append("--cfws changed nothing: it splits int8 square convolutions (dense or "
                     "depthwise) of kernel 3 or more, and this model has none at int8")
    weighted = [layer for layer in qgraph.layers if layer.params.get("precision") == "int8"
                and any(a.dtype == np.int8 and a.ndim >= 2 for a in layer.arrays.values())]
    if options.weight_outliers:
        kept = [layer.name for layer in weighted if outlier_list.has_outliers(layer.arrays)]
        left = [layer.name for layer in weighted if not op(layer.kind).OUTLIERS]
        if not kept:
            lines.append(f"--weight-outliers {options.weight_outliers:g} changed nothing: it "
                         "keeps outliers aside in int8 linear and convolution layers (of at "
                         f"least {1 / (2 * options.weight_outliers):.0f} weights per output "
                         "channel), and this model has none")
        elif left:
            lines.append(f"--weight-outliers keeps no outliers aside in {', '.join(left[:6])}"
                         f"{' ...' if len(left) > 6 else ''}: their kernels have no side list "
                         "(only linear and convolution layers have)")
    for option, default, flag in ((options.weight_bits, 8, "--weight-bits"),
                                  (options.weight_range, "max", "--weight-range")):
        if option != default and not weighted:
            lines.append(f"{flag} {option} changed nothing: it applies to int8 layers with "
                         "weights, and this model has none at int8")
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
    # the float values the quantized tensors hold: equalized ones where the export was
    return prepared(graph, QuantOptions(equalize="equalize" in qgraph.meta.get("passes", [])))

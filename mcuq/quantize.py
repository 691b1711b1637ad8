"""Quantize an IR graph with calibration statistics into a QGraph."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq import outliers as outlier_list
from mcuq.errors import McuqError
from mcuq.ir import Graph, Layer
from mcuq.ops import convert, op
from mcuq.passes import check_deployable
from mcuq.qgraph import DTYPES, QGraph, QLayer, QTensor
from mcuq.reference import FloatModel
from mcuq.simulate import Simulator, decode, saturation_warnings


PRECISIONS = ("int8", "fp16")  # what a layer can run at on the device
# fp32-ref keeps every layer in float32: the reference the others are measured against,
# run by the simulator only (there is no float32 C)
RECIPES = ("int8", "fp16", "mixed", "fp32-ref")
REFERENCE = "fp32-ref"


def assign_precisions(graph: Graph, recipe: str = "int8", overrides: dict | None = None
                      ) -> dict[str, str]:
    """Each layer's precision: int8 everywhere, fp16 everywhere, or `mixed` (the paper's
    recipe: recurrent layers int8, all others fp16); then `overrides`, a mapping from a
    layer name or a layer kind to a precision (names win over kinds)."""
    if recipe not in RECIPES:
        raise McuqError(f"unknown precision '{recipe}'; use one of {', '.join(RECIPES)}")
    if recipe == REFERENCE:
        if overrides:
            raise McuqError("--precision fp32-ref is the float reference as a whole; "
                            "per-layer overrides need int8, fp16 or mixed")
        return {layer.name: "fp32" for layer in graph.layers}
    chosen = {layer.name: ("int8" if recipe == "int8" or
                           (recipe == "mixed" and op(layer.kind).STATEFUL) else "fp16")
              for layer in graph.layers}
    overrides = overrides or {}
    names = {layer.name for layer in graph.layers}
    kinds = {layer.kind for layer in graph.layers}
    for key, precision in overrides.items():
        if precision not in PRECISIONS:
            raise McuqError(f"precision override '{key}: {precision}': use int8 or fp16")
        if key not in names and key not in kinds:
            raise McuqError(f"precision override names '{key}', which is no layer or layer kind "
                            f"of this model (layers: {', '.join(sorted(names))})")
    for layer in graph.layers:
        chosen[layer.name] = overrides.get(layer.name, overrides.get(layer.kind,
                                                                     chosen[layer.name]))
        if op(layer.kind).PRECISIONS and chosen[layer.name] not in op(layer.kind).PRECISIONS:
            raise McuqError(f"layer {layer.name} ({layer.kind}) has no {chosen[layer.name]} "
                            f"kernel; use {' or '.join(op(layer.kind).PRECISIONS)}")
    return chosen


def reference_layer(layer: Layer) -> QLayer:
    """The float32 layer as it is, for the simulator's fp32 reference configuration."""
    return QLayer(kind=layer.kind, name=layer.name, inputs=list(layer.inputs),
                  outputs=list(layer.outputs),
                  arrays={k: np.asarray(w, np.float32) for k, w in layer.weights.items()},
                  params={**layer.attrs, "precision": "fp32"}, source=layer.source)


def _tensor_for(stats: dict, shape: tuple, precision: str) -> QTensor:
    if precision == "fp32":
        return QTensor(shape=shape, scale=1.0, zero_point=0, dtype="float32")
    if precision == "fp16":
        return fp16.tensor(shape)
    scale, zp = fx.activation_qparams(stats["min"], stats["max"])
    return QTensor(shape=shape, scale=scale, zero_point=zp)


def quantize_graph(graph: Graph, stats: dict, name: str = "model",
                   precisions: dict[str, str] | None = None, recipe: dict | None = None,
                   layer_recipe=None) -> QGraph:
    """Quantize every layer at its precision, with a convert layer wherever a tensor
    crosses between int8 and fp16 (one per tensor and precision, shared by its readers).

    `recipe` holds the run's quantization options that ops may read from their layer's
    attrs: "weight_bits" (2-8), "weight_range" and "cfws" (coarse & fine weight
    splitting); `layer_recipe(layer)`, when given, gives each layer's own (a precision
    file's per-layer weight range: mcuq.options)."""
    recipe = dict(recipe or {})
    precisions = precisions or assign_precisions(graph)
    if "fp32" not in precisions.values():
        check_deployable(graph)
    tensor_stats = stats["tensors"]
    first = graph.consumers(graph.input)[0]
    tensors = {graph.input: _tensor_for(tensor_stats[graph.input], graph.input_shape,
                                        precisions[first.name])}
    layers: list[QLayer] = []
    converted: dict[tuple[str, str], str] = {}
    for layer in graph.layers:
        precision = precisions[layer.name]
        inputs = []
        for source in layer.inputs:
            if tensors[source].dtype != DTYPES[precision]:
                key = (source, precision)
                if key not in converted:
                    out = f"{source}_{precision}"
                    target = _tensor_for(tensor_stats[source], tensors[source].shape, precision)
                    count = sum(1 for q in layers if q.kind == "convert")
                    layers.append(convert.make(f"convert{count}", f"before {layer.name}", source,
                                               out, tensors[source], target))
                    tensors[out] = target
                    converted[key] = out
                source = converted[key]
            inputs.append(source)
        own = layer_recipe(layer) if layer_recipe is not None else recipe
        layer = replace(layer, inputs=inputs, attrs={**layer.attrs, **own})
        if precision == "fp32":
            qlayer = reference_layer(layer)
            qout = _tensor_for(tensor_stats[layer.outputs[0]], graph.shape(layer.outputs[0]),
                               precision)
        else:
            try:
                qlayer, qout = op(layer.kind).quantize(layer, [tensors[t] for t in inputs],
                                                       tensor_stats[layer.outputs[0]], precision)
            except McuqError as exc:
                if layer.name in str(exc):
                    raise
                raise McuqError(f"layer {layer.name} (from node {layer.source}): {exc}") from None
        tensors[layer.outputs[0]] = qout
        layers.append(qlayer)
    meta = {"input_roles": list(graph.input_roles), "output_roles": list(graph.output_roles),
            "source_input_name": graph.source_input_name, "calibration_frames": stats["frames"],
            "parameters": graph.parameter_count(), "recurrent": graph.recurrent,
            "output_final": graph.output_final,
            "passes": list(graph.passes), "precisions": precisions, **recipe}
    return QGraph(name=name, input=graph.input, output=graph.output, tensors=tensors,
                  layers=layers, meta=meta)


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio in dB (inf when identical)."""
    noise = float(np.sum((reference.astype(np.float64) - test) ** 2))
    signal = float(np.sum(reference.astype(np.float64) ** 2))
    if noise == 0:
        return float("inf")
    return 10.0 * np.log10(max(signal, 1e-30) / noise)


def layer_report(graph: Graph, qgraph: QGraph, sequences: np.ndarray, weight_info=None
                 ) -> tuple[list[dict], list[str]]:
    """Per layer: SQNR of the quantized model's output (errors accumulated from the input
    on) against the float model's, and the share of its values that saturate, on
    `sequences` (batch, time, *input shape); and the saturation warnings of the run.
    `weight_info(float layer)` adds what an int8 layer's weight quantization costs."""
    float_layers = {layer.name: layer for layer in graph.layers}
    float_out = FloatModel(graph).run_all(sequences)
    sim = Simulator(qgraph, graph)
    trace: dict = {}
    sim.run(sequences, trace)
    saturated = {t: hits / total for t, (hits, total, _) in sim.saturation.items() if total}
    rows = []
    for qlayer in qgraph.layers:
        if qlayer.kind == "convert":
            continue
        t = qgraph.tensors[qlayer.outputs[0]]
        ref = float_out[qlayer.outputs[0]]
        got = decode(trace[qlayer.name], t)
        rows.append({"layer": qlayer.name, "kind": qlayer.kind, "source": qlayer.source,
                     "precision": qlayer.params["precision"],
                     "sqnr_db": round(sqnr_db(ref, got), 2),
                     "weight_bytes": int(sum(a.nbytes for a in qlayer.arrays.values())),
                     "parameters": int(sum(np.size(w) for w in float_layers[qlayer.name].weights.values()))
                     if qlayer.name in float_layers else 0,
                     # an fp32 reference layer keeps the float attributes, not the device's
                     "macs": int(op(qlayer.kind).macs(qlayer))
                     if qlayer.params["precision"] != "fp32" else 0,
                     "activation_bytes": int(qgraph.tensor_bytes(qlayer.outputs[0])),
                     "out_scale": t.scale, "out_zero_point": t.zero_point,
                     "saturated": round(saturated.get(qlayer.outputs[0], 0.0), 6)})
        if weight_info is not None and qlayer.params["precision"] == "int8" and \
                qlayer.name in float_layers:
            rows[-1].update(weight_info(float_layers[qlayer.name]))
        if outlier_list.has_outliers(qlayer.arrays):
            rows[-1]["outlier_bits_per_weight"] = round(
                outlier_list.side_list_bits(qlayer.arrays, qlayer.params)
                / qlayer.arrays["weight"].size, 4)
    return rows, saturation_warnings(qgraph, sim.saturation) + lopsided_warnings(qgraph, float_out)


LOPSIDED = 16.0  # widest channel / median channel: the median keeps under 8 of 127 codes


def lopsided_warnings(qgraph: QGraph, float_out: dict) -> list[str]:
    """One line per int8 layer output whose widest channel reaches more than LOPSIDED
    times the median channel's magnitude: its one range per tensor leaves most channels
    a few codes, and no calibration method helps (the range is set by the wide channel,
    and clipping it clips that channel); cross-layer equalization moves the imbalance
    into the weights, which have a range per channel."""
    if "equalize" in qgraph.meta.get("passes", []):
        return []
    lines = []
    for layer in qgraph.layers:
        t = qgraph.tensors[layer.outputs[0]]
        values = float_out.get(layer.outputs[0])
        if values is None or t.dtype != "int8" or len(t.shape) not in (1, 3) or \
                layer.outputs[0] == qgraph.output:  # nothing reads the output to equalize
            continue
        magnitude = np.abs(np.asarray(values, np.float64)).reshape(-1, *t.shape)
        per_channel = magnitude.max(axis=(0, 2, 3) if len(t.shape) == 3 else 0)
        median = float(np.median(per_channel))
        if per_channel.size < 4 or median <= 0 or per_channel.max() <= LOPSIDED * median:
            continue
        ratio = float(per_channel.max()) / median
        lines.append(f"layer {layer.name} (from node {layer.source}): channel "
                     f"{int(per_channel.argmax())} of its output reaches {ratio:.0f}x the "
                     f"median channel's magnitude, so its int8 range (one per tensor) leaves "
                     f"the median channel about {127 / ratio:.0f} of 127 codes; export with "
                     "--equalize to move the imbalance into per-channel weight ranges where a "
                     "Linear, Conv or recurrent layer reads it")
    return lines

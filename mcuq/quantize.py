"""Quantize an IR graph with calibration statistics into a QGraph."""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.ir import Graph
from mcuq.ops import OPS
from mcuq.qgraph import QGraph, QTensor
from mcuq.reference import FloatModel
from mcuq.simulate import Simulator


def quantize_graph(graph: Graph, stats: dict, name: str = "model") -> QGraph:
    tensor_stats = stats["tensors"]
    s = tensor_stats[graph.input]
    scale, zp = fx.activation_qparams(s["min"], s["max"])
    tensors = {graph.input: QTensor(size=graph.input_size, scale=scale, zero_point=zp)}
    layers = []
    for layer in graph.layers:
        qin = tensors[layer.inputs[0]]
        qlayer, qout = OPS[layer.kind].quantize(layer, qin, tensor_stats[layer.outputs[0]])
        tensors[layer.outputs[0]] = qout
        layers.append(qlayer)
    meta = {"input_roles": list(graph.input_roles), "output_roles": list(graph.output_roles),
            "source_input_name": graph.source_input_name, "calibration_frames": stats["frames"],
            "parameters": graph.parameter_count(), "recurrent": graph.recurrent}
    return QGraph(name=name, input=graph.input, output=graph.output, tensors=tensors,
                  layers=layers, meta=meta)


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio in dB (inf when identical)."""
    noise = float(np.sum((reference.astype(np.float64) - test) ** 2))
    signal = float(np.sum(reference.astype(np.float64) ** 2))
    if noise == 0:
        return float("inf")
    return 10.0 * np.log10(max(signal, 1e-30) / noise)


def layer_report(graph: Graph, qgraph: QGraph, sequences: np.ndarray) -> list[dict]:
    """Per layer: SQNR of the int8 model's output (errors accumulated from the input on)
    against the float model's, on `sequences` (batch, time, features)."""
    float_out: dict[str, list] = {}
    model = FloatModel(graph)
    model.reset(sequences.shape[0])
    for t in range(sequences.shape[1]):
        model.step(sequences[:, t],
                   lambda layer, y, state: float_out.setdefault(layer.name, []).append(y.copy()))
    sim = Simulator(qgraph)
    trace: dict = {}
    sim.run_int(sim.quantize_input(sequences), trace)
    rows = []
    for qlayer in qgraph.layers:
        t = qgraph.tensors[qlayer.outputs[0]]
        ref = np.stack(float_out[qlayer.name], axis=1)
        got = fx.dequantize(trace[qlayer.name], t.scale, t.zero_point)
        rows.append({"layer": qlayer.name, "kind": qlayer.kind, "source": qlayer.source,
                     "sqnr_db": round(sqnr_db(ref, got), 2),
                     "weight_bytes": int(sum(a.nbytes for a in qlayer.arrays.values())),
                     "out_scale": t.scale, "out_zero_point": t.zero_point})
    return rows

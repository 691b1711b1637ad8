"""Concat along one per-frame axis, of activations and constants (a learned token, a fixed
feature): a vector's features, an image's channels, height or width, any axis of other
frames.

float:  y = [x_0, x_1, ...] along that axis (a constant part is the same in every frame)
int8:   each activation is requantized to the output's scale and zero point (the output
        range is calibrated, constants included; an input with the output's parameters
        is copied exactly, M = 2^30 2^-30):
        y = clamp(zp_y + requant(q_i - zp_i, M_i), -128, 127)      M_i ~ s_i / s_y
        a constant is stored in the output's format and copied (M = 1, zp = zp_y)
fp16:   a copy (constants stored in fp16).
In C memory order (HWC images, other frames row-major) the output is `outer` blocks,
each the inputs' runs one after the other: input i contributes runs[i] adjacent values
to every block (`blocks`). A channel concat of an image has a block per pixel, a height
concat one block, a width concat one per row.
C kernels: mcuq_concat_s8 (firmware/kernels/<isa>/concat_s8.c), mcuq_concat_f16.
ONNX: Concat of activations and constants on a per-frame axis.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.frontend.onnx_node import Act, attrs, label
from mcuq.qgraph import QLayer, QTensor, to_c_order

KIND = "concat"
ONNX_TYPES = ("Concat",)
MAX_INPUTS = 8  # the C kernel's pointer array


def import_onnx(ctx, node) -> list:
    values = [ctx.value(name) for name in node.input]
    where = f"(node {label(node)})"
    acts = [v for v in values if isinstance(v, Act)]
    if not acts or not all(isinstance(v, (Act, np.ndarray)) for v in values):
        return ctx.refuse(f"op Concat of {node.input} {where}: mcuq concatenates activations "
                          "and constants, at least one activation")
    if not 2 <= len(values) <= MAX_INPUTS:
        return ctx.refuse(f"op Concat of {len(values)} inputs {where}: mcuq takes 2 to {MAX_INPUTS}")
    first = acts[0]
    axis = attrs(node)["axis"] % len(first.shape)
    frame_axis = first.frame_axis(axis)
    if frame_axis is None:
        return ctx.refuse(f"op Concat on axis {axis} of shape {list(first.shape)} {where}, the "
                          "time (or item) axis or a singleton: mcuq concatenates within a frame")
    others = [s for i, s in enumerate(first.shape) if i != axis]
    parts, sources = {}, []
    for i, v in enumerate(values):
        shape = v.shape if isinstance(v, Act) else np.shape(v)
        if len(shape) != len(first.shape) or [s for k, s in enumerate(shape) if k != axis] != others:
            return ctx.refuse(f"op Concat of shapes {[list(np.shape(x) if isinstance(x, np.ndarray) else x.shape) for x in values]} "
                              f"{where}: the other axes must agree")
        if isinstance(v, Act):
            if v.roles != first.roles:
                return ctx.refuse(f"op Concat of activations with different layouts {where}")
            sources.append(f"i{len(sources) - len(parts)}")
            continue
        frame = _per_frame(v, first, axis)
        if frame is None:
            return ctx.refuse(f"op Concat of a constant that differs between frames {where}: "
                              "mcuq concatenates constants that are the same in every frame")
        parts[f"part{i}"] = frame
        sources.append(f"part{i}")
    out = ctx.add_layer(KIND, node, [x.tensor for x in acts], parts,
                        {"axis": frame_axis, "sources": ",".join(sources)})
    return [first.with_frame_shape(out, ctx.tensors[out].shape)]


def _per_frame(c: np.ndarray, x: Act, axis: int) -> np.ndarray | None:
    """A constant Concat input as one frame (channels first), when it is the same in every
    frame (along the time and singleton axes)."""
    c = np.asarray(c, np.float32)
    lead = [i for i, r in enumerate(x.roles) if r != "F"]
    first = c[tuple(slice(0, 1) if i in lead else slice(None) for i in range(c.ndim))]
    if not np.array_equal(np.broadcast_to(first, c.shape), c):
        return None
    return np.ascontiguousarray(first.reshape([s for i, s in enumerate(c.shape) if i not in lead]))


def _sources(layer_attrs: dict) -> list[str]:
    return layer_attrs["sources"].split(",")


def _frames(layer_attrs: dict, xs: list, constants: dict, batch: int) -> list:
    """The parts in order: activations from xs, constants repeated for the batch."""
    return [xs[int(s[1:])] if s.startswith("i") else
            np.broadcast_to(constants[s], (batch, *constants[s].shape)) for s in _sources(layer_attrs)]


def output_shape(layer, shapes):
    axis = layer.attrs["axis"]
    shapes = [shapes[int(s[1:])] if s.startswith("i") else layer.weights[s].shape
              for s in _sources(layer.attrs)]
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)


def blocks(shapes, axis: int) -> tuple[int, list[int]]:
    """(outer, runs) of the parts in C memory order (HWC for an image, else row-major)."""
    order = [1, 2, 0] if len(shapes[0]) == 3 else list(range(len(shapes[0])))
    position = order.index(axis)
    outer = int(np.prod([shapes[0][a] for a in order[:position]], dtype=np.int64))
    runs = [int(np.prod([s[a] for a in order[position:]], dtype=np.int64)) for s in shapes]
    return outer, runs


def run_float(layer, xs, state) -> np.ndarray:
    parts = _frames(layer.attrs, xs, layer.weights, xs[0].shape[0])
    return np.concatenate(parts, axis=layer.attrs["axis"] + 1).astype(np.float32)


def quantize(layer, qins, stats, precision):
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = output_shape(layer, [q.shape for q in qins])
    sources = _sources(layer.attrs)
    axis = layer.attrs["axis"]
    shapes = [qins[int(s[1:])].shape if s.startswith("i") else layer.weights[s].shape
              for s in sources]
    outer, runs = blocks(shapes, axis)
    params = {"precision": precision, "inputs": len(sources), "outer": outer, "axis": axis,
              "sources": layer.attrs["sources"]}
    arrays = {"runs": np.array(runs, np.int32)}
    constants = {s: layer.weights[s] for s in sources if not s.startswith("i")}
    if precision == "fp16":
        arrays.update({s: fp16.to_fp16(c, f"layer {layer.name}") for s, c in constants.items()})
        return QLayer(arrays=arrays, params=params, **base), fp16.tensor(shape)
    scales = [q.scale for q in qins]
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"],
                                              min_scale=max(scales) * 2.0**-29)
    rescale = [qins[int(s[1:])].scale / out_scale if s.startswith("i") else 1.0 for s in sources]
    arrays["mult"], arrays["shift"] = fx.quantize_multipliers(rescale)
    arrays["zero_point"] = np.array([qins[int(s[1:])].zero_point if s.startswith("i") else out_zp
                                     for s in sources], np.int32)
    arrays.update({s: fx.quantize_activation(c, out_scale, out_zp) for s, c in constants.items()})
    params["out_zero_point"] = out_zp
    return (QLayer(arrays=arrays, params=params, **base),
            QTensor(shape=shape, scale=out_scale, zero_point=out_zp))


def run_device(qlayer, xs, state) -> np.ndarray:
    p, a = qlayer.params, qlayer.arrays
    parts = _frames(p, xs, a, xs[0].shape[0])
    axis = p["axis"] + 1
    if p["precision"] == "fp16":
        return np.concatenate(parts, axis=axis).astype(np.float16)
    parts = [fx.saturate(p["out_zero_point"] + fx.requant(x.astype(np.int64) - a["zero_point"][i],
                                                          a["mult"][i], a["shift"][i]), -128, 127)
             for i, x in enumerate(parts)]
    return np.concatenate(parts, axis=axis).astype(np.int8)


def onnx_nodes(qlayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Concat, constant parts as their stored values."""
    p, a = qlayer.params, qlayer.arrays
    out = b.qgraph.tensors[qlayer.outputs[0]]
    parts = []
    for s in _sources(p):
        if s.startswith("i"):
            parts.append(xs[int(s[1:])])
            continue
        c = a[s].astype(np.float32)
        if a[s].dtype == np.int8:  # codes in the output's format
            c = (c - out.zero_point) * np.float32(out.scale)
        parts.append(b.const(s, c[None]))
    return b.node("Concat", parts, axis=p["axis"] + 1)


def c_arrays(qlayer, isa: str) -> dict:
    """The constant parts in C memory order (an image's HWC), as the kernel copies them."""
    return {key: to_c_order(a, a.shape) if key.startswith("part") else a
            for key, a in qlayer.arrays.items()}


def c_values(qlayer) -> dict:
    """The C pointer of each part, in order: ("input", index) or ("array", key)."""
    return {"sources": [("input", int(s[1:])) if s.startswith("i") else ("array", s)
                        for s in _sources(qlayer.params)]}

"""Concat along the feature axis (a vector's only axis, an image's channel axis).

float:  y = [x_0, x_1, ...] along that axis
int8:   each input is requantized to the output's scale and zero point (the output
        range is calibrated; an input with the output's parameters is copied exactly,
        M = 2^30 2^-30):
        y = clamp(zp_y + requant(q_i - zp_i, M_i), -128, 127)      M_i ~ s_i / s_y
fp16:   a copy.
In C the channels of a pixel are contiguous (HWC), so each input contributes a run
of its channels to every pixel: `outer` pixels (1 for a vector) of `channels[i]` values.
C kernels: mcuq_concat_s8 (firmware/kernels/<isa>/concat_s8.c), mcuq_concat_f16.
ONNX: Concat of activations on the feature or channel axis.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.frontend.onnx_node import Act, attrs, label
from mcuq.qgraph import QLayer, QTensor

KIND = "concat"
ONNX_TYPES = ("Concat",)
MAX_INPUTS = 8  # the C kernel's pointer array


def import_onnx(ctx, node) -> list:
    xs = [ctx.value(name) for name in node.input]
    where = f"(node {label(node)})"
    if not all(isinstance(x, Act) for x in xs):
        return ctx.refuse(f"op Concat of a constant and activations {where}: mcuq concatenates "
                          "activations only")
    if not 2 <= len(xs) <= MAX_INPUTS:
        return ctx.refuse(f"op Concat of {len(xs)} inputs {where}: mcuq takes 2 to {MAX_INPUTS}")
    first = xs[0]
    axis = attrs(node)["axis"] % len(first.shape)
    if first.frame_axis(axis) != 0 or len(first.frame_shape) not in (1, 3):
        return ctx.refuse(f"op Concat on axis {axis} of shape {list(first.shape)} {where}: mcuq "
                          "concatenates on the feature (or channel) axis only")
    for x in xs[1:]:
        rest = [s for i, s in enumerate(x.shape) if i != axis]
        if x.roles != first.roles or rest != [s for i, s in enumerate(first.shape) if i != axis]:
            return ctx.refuse(f"op Concat of shapes {[list(x.shape) for x in xs]} {where}: "
                              "the other axes must agree")
    out = ctx.add_layer(KIND, node, [x.tensor for x in xs])
    return [first.with_frame_shape(out, ctx.tensors[out].shape)]


def output_shape(layer, shapes):
    return (sum(s[0] for s in shapes),) + tuple(shapes[0][1:])


def run_float(layer, xs, state) -> np.ndarray:
    return np.concatenate(xs, axis=1).astype(np.float32)


def quantize(layer, qins, stats, precision):
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = output_shape(layer, [q.shape for q in qins])
    channels = np.array([q.shape[0] for q in qins], np.int32)
    params = {"precision": precision, "inputs": len(qins),
              "outer": int(np.prod(shape[1:], dtype=np.int64))}
    if precision == "fp16":
        return QLayer(arrays={"channels": channels}, params=params, **base), fp16.tensor(shape)
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"], min_scale=max(
        q.scale for q in qins) * 2.0**-29)
    mult, shift = fx.quantize_multipliers([q.scale / out_scale for q in qins])
    zero_point = np.array([q.zero_point for q in qins], np.int32)
    params["out_zero_point"] = out_zp
    return (QLayer(arrays={"channels": channels, "mult": mult, "shift": shift,
                           "zero_point": zero_point}, params=params, **base),
            QTensor(shape=shape, scale=out_scale, zero_point=out_zp))


def run_device(qlayer, xs, state) -> np.ndarray:
    p, a = qlayer.params, qlayer.arrays
    if p["precision"] == "fp16":
        return np.concatenate(xs, axis=1).astype(np.float16)
    parts = [fx.saturate(p["out_zero_point"] + fx.requant(x.astype(np.int64) - a["zero_point"][i],
                                                          a["mult"][i], a["shift"][i]), -128, 127)
             for i, x in enumerate(xs)]
    return np.concatenate(parts, axis=1).astype(np.int8)

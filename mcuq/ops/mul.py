"""Mul: the element-wise product of two tensors, either of them an activation or a
constant (gating: a squeeze-and-excitation block's channel weights times its image; a
mask times a signal), the second of the first's shape or one value per channel.

float:  y = a b       (b[c] for every value of channel c when b is one per channel)
int8:   y = clamp(zp_y + requant((qa - zp_a)(qb - zp_b), M), -128, 127)   M ~ s_a s_b / s_y
        (the product of two codes fits int32; a constant b is int8 codes with its own
        scale and zero point, from its range)
fp16:   y = fp16(a b)
In C (vectors, HWC images, other frames row-major) b is read at index i mod b_period:
b_period = the size for the same shape, the channels for one per channel (an image's
channels are its fastest axis).
C kernels: mcuq_mul_s8 / _f16 (firmware/kernels/<isa>/mul_*.c); each core takes a share
of the elements. ONNX: Mul of two activations, Mul and Div by a constant tensor (Div
multiplies by its reciprocal), reached through mcuq.ops.pointwise, which owns Mul.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import Act, label
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor, to_c_order

KIND = "mul"
WEIGHTS = ("b",)  # a constant operand (a scale layer)


def import_product(ctx, node) -> list:
    """Mul of two activations, or Mul/Div of an activation and a constant tensor that is
    not a scalar (those are pointwise layers) nor one value per channel (scale layers)."""
    values = [ctx.value(name) for name in node.input[:2]]
    where = f"(node {label(node)})"
    if node.op_type == "Div":
        if not isinstance(values[1], np.ndarray):
            return ctx.refuse(f"op Div by an activation {where}: mcuq divides by constants only")
        if np.any(values[1] == 0):
            raise McuqError(f"node {label(node)} (Div) divides by a constant that holds 0")
        values[1] = 1.0 / np.asarray(values[1], np.float64)
    if isinstance(values[0], np.ndarray):
        values.reverse()  # the activation first
    a, b = values
    if isinstance(b, Act):
        if b.roles != a.roles:
            return ctx.refuse(f"op Mul of activations of different layouts {where}")
        period = _period(a.frame_shape, b.frame_shape)
        if period is None:
            a, b = b, a  # the per-channel one second
            period = _period(a.frame_shape, b.frame_shape)
        if period is None:
            return ctx.refuse(f"op Mul of shapes {list(a.shape)} and {list(b.shape)} {where}: mcuq "
                              "multiplies tensors of one shape, or by one value per channel")
        out = ctx.add_layer(KIND, node, [a.tensor, b.tensor], attrs_={"per_channel": int(period)})
        return [a.with_frame_shape(out, a.frame_shape)]
    frame = constant_frame(a, np.asarray(b, np.float32))
    if frame is None:
        return ctx.refuse(f"op {node.op_type} of an activation of shape {list(a.shape)} and a "
                          f"constant of shape {list(np.shape(b))} {where}: mcuq multiplies by "
                          "constants of the frame's shape, one per channel, or a scalar")
    out = ctx.add_layer(KIND, node, [a.tensor], {"b": frame}, {"per_channel": 0})
    return [a.with_frame_shape(out, a.frame_shape)]


def _period(a_shape, b_shape) -> bool | None:
    """False when b has a's shape, True when b is one value per channel of a (a vector of
    a's features, or a (C, 1, 1) image of an image's channels), None otherwise."""
    if tuple(a_shape) == tuple(b_shape):
        return False
    if len(a_shape) in (1, 3) and b_shape[0] == a_shape[0] and all(s == 1 for s in b_shape[1:]) \
            and len(b_shape) == len(a_shape):
        return True
    return None


def constant_frame(x: Act, c: np.ndarray) -> np.ndarray | None:
    """(Also add's.) A constant broadcast over x's source shape, as one frame, when it is the same in
    every frame; None when it differs between frames or does not broadcast."""
    try:
        full = np.broadcast_to(c, x.shape) if c.ndim <= len(x.shape) else None
    except ValueError:
        return None
    if full is None:
        return None
    lead = [i for i, r in enumerate(x.roles) if r != "F"]
    first = full[tuple(slice(0, 1) if i in lead else slice(None) for i in range(full.ndim))]
    if not np.array_equal(np.broadcast_to(first, full.shape), full):
        return None
    return np.ascontiguousarray(first.reshape(x.frame_shape)).astype(np.float32)


def _b(layer_or_q, xs, constant_key: str = "b"):
    """The second operand, (batch, *shape of a) broadcast as the kernel reads it."""
    a = xs[0]
    b = xs[1] if len(xs) > 1 else np.broadcast_to(layer_or_q[constant_key], a.shape[1:])[None]
    return np.broadcast_to(b, a.shape)


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return (xs[0].astype(np.float64) * _b(layer.weights, xs).astype(np.float64)).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qa = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = qa.shape
    per_channel = layer.attrs["per_channel"]
    params = {"precision": precision, "size": qa.size,
              "b_period": shape[0] if per_channel else qa.size, "per_channel": per_channel}
    arrays = {}
    if precision == "fp16":
        if "b" in layer.weights:
            arrays["b"] = fp16.to_fp16(layer.weights["b"], f"layer {layer.name}")
        return QLayer(arrays=arrays, params=params, **base), fp16.tensor(shape)
    if "b" in layer.weights:
        c = layer.weights["b"]
        b_scale, b_zp = fx.activation_qparams(float(c.min()), float(c.max()))
        arrays["b"] = fx.quantize_activation(c, b_scale, b_zp)
    else:
        b_scale, b_zp = qins[1].scale, qins[1].zero_point
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"],
                                              min_scale=qa.scale * b_scale * 2.0**-29)
    mult, shift = fx.quantize_multiplier(qa.scale * b_scale / out_scale)
    params.update({"a_zero_point": qa.zero_point, "b_zero_point": b_zp, "mult": mult,
                   "shift": shift, "out_zero_point": out_zp})
    return (QLayer(arrays=arrays, params=params, **base),
            QTensor(shape=shape, scale=out_scale, zero_point=out_zp))


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    p = qlayer.params
    b = _b(qlayer.arrays, xs)
    if p["precision"] == "fp16":
        with np.errstate(invalid="ignore", over="ignore"):
            return fp16.canonical(np.asarray(xs[0], np.float16) * np.asarray(b, np.float16))
    product = (xs[0].astype(np.int64) - p["a_zero_point"]) * (b.astype(np.int64) - p["b_zero_point"])
    y = p["out_zero_point"] + fx.requant(product, p["mult"], p["shift"])
    return fx.saturate(y, -128, 127).astype(np.int8)


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Mul of the dequantized operands (a constant as stored)."""
    if len(xs) == 2:
        return b.node("Mul", xs)
    c, p = qlayer.arrays["b"], qlayer.params
    if c.dtype == np.int8:  # s_b from the multiplier: M = s_a s_b / s_y
        qa = b.qgraph.tensors[qlayer.inputs[0]]
        s_y = b.qgraph.tensors[qlayer.outputs[0]].scale
        s_b = p["mult"] * 2.0 ** -p["shift"] * s_y / qa.scale
        c = (c.astype(np.float32) - p["b_zero_point"]) * np.float32(s_b)
    return b.node("Mul", [xs[0], b.const("b", np.asarray(c, np.float32)[None])])


def macs(qlayer: QLayer) -> int:
    return qlayer.params["size"]


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    """A constant b in C memory order (an image's HWC)."""
    return {k: to_c_order(a, a.shape) for k, a in qlayer.arrays.items()}


def c_values(qlayer: QLayer) -> dict:
    """Where b comes from: the second input, or the layer's constant."""
    return {"b": ("array", "b") if "b" in qlayer.arrays else ("input", 1)}

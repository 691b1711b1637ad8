"""Add: element-wise sum of two tensors of the same shape (no broadcasting); b is an
activation or a constant of the frame's shape (the same in every frame).

float:  y = a + b
int8:   each input is rescaled to the output scale with 16 extra fraction bits, then
        the two are summed and rounded once:
        ta = requant(qa - zp_a, M_a)       M_a ~ s_a / s_y * 2^16   (int32, saturated)
        tb = requant(qb - zp_b, M_b)       M_b ~ s_b / s_y * 2^16
        y  = clamp(zp_y + rshift_round(ta + tb, 16), -128, 127)     (ta + tb in int64)
fp16:   y = fp16(a + b)
A constant b is int8 codes with its own scale and zero point (from its range), or fp16.
C kernels: mcuq_add_s8 (firmware/kernels/<isa>/add_s8.c), mcuq_add_f16 (add_f16.c).
ONNX: Add of two activations; Add of a constant that is a MatMul's bias folds into it;
Add of a scalar constant is a pointwise layer (mcuq.ops.pointwise), of one per channel a
scale layer; Add and Sub (activation - constant) of a constant tensor (import_constant).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.frontend.onnx_node import Act, label
from mcuq.ops import linear, mul, pointwise
from mcuq.qgraph import QLayer, QTensor, to_c_order

KIND = "add"
ONNX_TYPES = ("Add",)
FRACTION_BITS = 16  # of the rescaled inputs
WEIGHTS = ("b",)  # a constant operand (a bias or shift layer)


def import_onnx(ctx, node) -> list:
    a, b = (ctx.value(name) for name in node.input)
    if isinstance(a, Act) and isinstance(b, Act):
        if a.roles != b.roles or a.shape != b.shape:
            return ctx.refuse(f"op Add of shapes {list(a.shape)} and {list(b.shape)} "
                              f"(node {label(node)}): mcuq adds tensors of one shape, without "
                              "broadcasting")
        out = ctx.add_layer(KIND, node, [a.tensor, b.tensor])
        return [a.with_frame_shape(out, a.frame_shape)]
    x, c = (a, b) if isinstance(a, Act) else (b, a)
    if isinstance(c, np.ndarray) and linear.absorb_bias(ctx, node, x, c):
        return [x]
    if isinstance(c, np.ndarray):  # x + c: an element-wise function or a per-channel shift
        return pointwise.import_scalar(ctx, node)
    return ctx.refuse(f"op Add of {node.input} (node {label(node)}): mcuq adds two activations "
                      "or an activation and a constant")


def import_constant(ctx, node, x: Act, c: np.ndarray) -> list | None:
    """x + c for a constant c of x's per-frame values (Sub: c negated by the caller); None
    when c differs between frames or does not broadcast to x."""
    frame = mul.constant_frame(x, np.asarray(c, np.float32))
    if frame is None:
        return None
    out = ctx.add_layer(KIND, node, [x.tensor], {"b": frame})
    return [x.with_frame_shape(out, x.frame_shape)]


def _operands(xs, constants):
    return xs[0], (xs[1] if len(xs) > 1 else constants["b"][None])


def run_float(layer, xs, state) -> np.ndarray:
    a, b = _operands(xs, layer.weights)
    return (a + b).astype(np.float32)


def quantize(layer, qins, stats, precision):
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = qins[0].shape
    arrays = {}
    if precision == "fp16":
        if "b" in layer.weights:
            arrays["b"] = fp16.to_fp16(layer.weights["b"], f"layer {layer.name}")
        return (QLayer(arrays=arrays, params={"precision": "fp16", "size": qins[0].size}, **base),
                fp16.tensor(shape))
    if "b" in layer.weights:  # a constant b: codes of its own range
        c = layer.weights["b"]
        qins = [qins[0], QTensor(shape, *fx.activation_qparams(float(c.min()), float(c.max())))]
        arrays["b"] = fx.quantize_activation(c, qins[1].scale, qins[1].zero_point)
    # M = s / s_y 2^16 must stay below 2^30 for both inputs
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"], min_scale=max(
        q.scale for q in qins) * 2.0**(FRACTION_BITS - 29))
    params = {"precision": "int8", "size": qins[0].size, "out_zero_point": out_zp}
    for side, q in zip("ab", qins):
        mult, shift = fx.quantize_multiplier(q.scale / out_scale * 2.0**FRACTION_BITS)
        params.update({f"{side}_zero_point": q.zero_point, f"{side}_mult": mult,
                       f"{side}_shift": shift})
    return (QLayer(arrays=arrays, params=params, **base),
            QTensor(shape=shape, scale=out_scale, zero_point=out_zp))


def run_device(qlayer, xs, state) -> np.ndarray:
    p = qlayer.params
    a, b = _operands(xs, qlayer.arrays)
    if p["precision"] == "fp16":
        with np.errstate(invalid="ignore", over="ignore"):
            return fp16.canonical(np.asarray(a, np.float16) + np.asarray(b, np.float16))
    ta, tb = (fx.requant(x.astype(np.int64) - p[f"{s}_zero_point"], p[f"{s}_mult"], p[f"{s}_shift"])
              for s, x in zip("ab", (a, b)))
    y = p["out_zero_point"] + fx.rshift_round(ta + tb, FRACTION_BITS)
    return fx.saturate(y, -128, 127).astype(np.int8)


def onnx_nodes(qlayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Add of the dequantized inputs (a constant b as stored)."""
    if len(xs) == 1:
        c, p = qlayer.arrays["b"], qlayer.params
        if c.dtype == np.int8:  # s_b from its multiplier: M_b = s_b / s_y 2^16
            s_y = b.qgraph.tensors[qlayer.outputs[0]].scale
            s_b = p["b_mult"] * 2.0 ** -p["b_shift"] * s_y / 2.0 ** FRACTION_BITS
            c = (c.astype(np.float32) - p["b_zero_point"]) * np.float32(s_b)
        return b.node("Add", [xs[0], b.const("b", np.asarray(c, np.float32)[None])])
    return b.node("Add", xs)


def c_arrays(qlayer, isa: str) -> dict:
    """A constant b in C memory order (an image's HWC)."""
    return {k: to_c_order(a, a.shape) for k, a in qlayer.arrays.items()}


def c_values(qlayer) -> dict:
    """Where b comes from: the second input, or the layer's constant."""
    return {"b": ("array", "b") if "b" in qlayer.arrays else ("input", 1)}

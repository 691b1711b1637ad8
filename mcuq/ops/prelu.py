"""PReLU: a leaky ReLU with a slope per channel (a vector's feature, an image's channel).

float:  y[c] = x[c] < 0 ? a[c] x[c] : x[c]
int8:   a as int8 codes with one symmetric scale s_a (a[c] ~ s_a aq[c], as TFLM does)
        v = xq - zp_x
        y = clamp(zp_y + (v >= 0 ? requant(v, M_pos) : requant(v aq[c], M_neg)), -128, 127)
        M_pos ~ s_x / s_y,  M_neg ~ s_x s_a / s_y;  the output range is calibrated
fp16:   y = x < 0 ? fp16(x a[c]) : x,  a in fp16 (a NaN stays a NaN, stored canonical)
C kernels: mcuq_prelu_s8 / _f16 (firmware/kernels/<isa>/prelu_*.c); each core takes a
share of the elements (in HWC an element's channel is its index modulo the channels).
A slope per value of the frame (a[i] for element i) is the same kernel with `channels`
the frame's size. ONNX: PRelu with a constant slope, the same in every frame; a slope of
one value is a pointwise leaky_relu.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.frontend.onnx_node import label
from mcuq.ir import Layer
from mcuq.ops import mul, pointwise
from mcuq.qgraph import QLayer, QTensor, to_c_order

KIND = "prelu"
ONNX_TYPES = ("PRelu",)
WEIGHTS = ("slope",)


def import_onnx(ctx, node) -> list:
    x = ctx.act(node.input[0], node)
    slope = ctx.const(node.input[1], node)
    per_channel = pointwise.channel_vector(x, slope)
    if per_channel is not None and len(x.frame_shape) not in (1, 3) and np.ptp(per_channel):
        per_channel = None  # its kernel finds channels last: vectors and HWC images
    if per_channel is not None and np.all(per_channel == per_channel[0]):
        return pointwise.make(ctx, node, node.input[0], "leaky_relu", float(per_channel[0]), None)
    if per_channel is None:  # a slope per value of the frame
        per_channel = mul.constant_frame(x, np.asarray(slope, np.float32))
    if per_channel is None:
        return ctx.refuse(f"op PRelu of an activation of shape {list(x.shape)} with a slope of "
                          f"shape {list(slope.shape)} (node {label(node)}); mcuq supports one "
                          "slope, one per channel (per feature), or one per value of a frame")
    out = ctx.add_layer(KIND, node, [x.tensor], {"slope": per_channel.astype(np.float32)})
    return [x.with_frame_shape(out, x.frame_shape)]


def _per_channel(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """a (one slope per channel, or per value of the frame) shaped to broadcast over
    (batch, *frame)."""
    if a.ndim > 1:
        return a[None]
    return a.reshape((1, -1) + (1,) * (x.ndim - 2))


def run_float(layer: Layer, xs, state) -> np.ndarray:
    x = xs[0].astype(np.float64)
    a = _per_channel(layer.weights["slope"].astype(np.float64), x)
    return np.where(x < 0, a * x, x).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    slope = layer.weights["slope"]
    channels = slope.size if slope.ndim == 1 else qin.size  # the kernel's slope period
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    params = {"precision": precision, "channels": channels, "pixels": qin.size // channels}
    if slope.ndim > 1 and precision == "fp16":  # the kernel reads the slopes in C order
        return (QLayer(arrays={"slope": fp16.to_fp16(slope, f"layer {layer.name}")},
                       params=params, **base), fp16.tensor(qin.shape))
    if precision == "fp16":
        return (QLayer(arrays={"slope": fp16.to_fp16(slope, f"layer {layer.name}")},
                       params=params, **base), fp16.tensor(qin.shape))
    codes, scales = fx.quantize_weights_per_channel(slope.reshape(1, -1))
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"])
    pos_mult, pos_shift = fx.quantize_multiplier(qin.scale / out_scale)
    neg_mult, neg_shift = fx.quantize_multiplier(qin.scale * float(scales[0]) / out_scale)
    params.update({"in_zero_point": qin.zero_point, "out_zero_point": out_zp,
                   "pos_mult": pos_mult, "pos_shift": pos_shift,
                   "neg_mult": neg_mult, "neg_shift": neg_shift})
    return (QLayer(arrays={"slope": codes.reshape(slope.shape)}, params=params, **base),
            QTensor(shape=qin.shape, scale=out_scale, zero_point=out_zp))


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    p = qlayer.params
    x = xs[0]
    a = _per_channel(qlayer.arrays["slope"], x)
    if p["precision"] == "fp16":
        x = np.asarray(x, np.float16)
        with np.errstate(invalid="ignore", over="ignore"):
            y = np.where(x < np.float16(0), (x * a).astype(np.float16), x)
        return fp16.canonical(y)
    v = x.astype(np.int64) - p["in_zero_point"]
    y = np.where(v >= 0, fx.requant(v, p["pos_mult"], p["pos_shift"]),
                 fx.requant(v * a.astype(np.int64), p["neg_mult"], p["neg_shift"]))
    return fx.saturate(p["out_zero_point"] + y, -128, 127).astype(np.int8)


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    """Slopes per value of the frame in C memory order (an image's HWC)."""
    a = qlayer.arrays["slope"]
    return {"slope": to_c_order(a, a.shape) if a.ndim > 1 else a}


def macs(qlayer: QLayer) -> int:
    return qlayer.params["channels"] * qlayer.params["pixels"]

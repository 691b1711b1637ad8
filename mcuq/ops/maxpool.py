"""Max pooling over windows of an image (padding never wins: ONNX pads with -inf).

float:  y[c, oy, ox] = max over the window's taps inside the image of x[c, iy, ix]
int8:   the same on the codes (max commutes with the monotonic quantization), so the
        output keeps the input's scale and zero point: m = -128; m = max(m, xq) per tap
fp16:   m = -inf; for (ky, kx) in order: m = x > m ? x : m   (a NaN never wins)
C kernels: mcuq_maxpool_s8 / _f16 (firmware/kernels/<isa>/maxpool_*.c): each core takes a
share of the output pixels; a tap is C contiguous values (HWC).
ONNX: MaxPool (its Indices output is refused if used); GlobalMaxPool and ReduceMax over
the two spatial axes as a window over the whole image.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.frontend.onnx_node import Act, Unusable, attrs, label
from mcuq.ir import Layer
from mcuq.ops import _conv
from mcuq.qgraph import QLayer, QTensor

KIND = "maxpool"
ONNX_TYPES = ("MaxPool", "GlobalMaxPool", "ReduceMax")
HEADER = "mcuq_pool.h"


def import_onnx(ctx, node) -> list:
    x = _conv.image_input(ctx, node)
    if node.op_type in ("GlobalMaxPool", "ReduceMax"):
        return global_max(ctx, node, x)
    g = _conv.window_attrs(node, x.frame_shape, attrs(node).get("kernel_shape", []))
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_=_conv.flat(g))
    indices = Unusable(f"is the Indices output of node {label(node)} (MaxPool), which mcuq "
                       "does not compute")
    return [x.with_frame_shape(out, ctx.tensors[out].shape), indices]


def global_max(ctx, node, x: Act) -> list:
    """GlobalMaxPool, or ReduceMax over the two spatial axes: a max pool whose window is the
    whole image (with keepdims=0 the (C, 1, 1) result is read as a vector of C)."""
    keepdims = True
    if node.op_type == "ReduceMax":
        keepdims = _conv.spatial_keepdims(ctx, node, x, "takes the max over")
    _, h, w = x.frame_shape
    g = {"kernel": [h, w], "stride": [1, 1], "pads": [0, 0, 0, 0]}
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_=_conv.flat(g))
    pooled = x.with_frame_shape(out, ctx.tensors[out].shape)
    if keepdims:
        return [pooled]
    return [ctx.flatten(node, pooled, list(pooled.shape[:-3]) + [pooled.frame_shape[0]])]


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    g = _conv.window_of(qlayer.params)
    return b.node("MaxPool", xs, kernel_shape=g["kernel"], strides=g["stride"], pads=list(g["pads"]))


def output_shape(layer: Layer, shapes):
    return (shapes[0][0], *_conv.out_size(shapes[0], _conv.window_of(layer.attrs)))


def _max_over_taps(x: np.ndarray, g: dict, lowest) -> np.ndarray:
    """Taps in (ky, kx) order, each compared with `x > m`, as the C kernel does."""
    w = _conv.windows(x, g, lowest)  # (batch, out_h, out_w, kh, kw, C)
    w = w.reshape(*w.shape[:3], -1, w.shape[-1])
    m = np.full(w.shape[:3] + w.shape[-1:], lowest, dtype=x.dtype)
    for t in range(w.shape[3]):
        m = np.where(w[:, :, :, t] > m, w[:, :, :, t], m)
    return np.ascontiguousarray(m.transpose(0, 3, 1, 2))


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return _max_over_taps(xs[0].astype(np.float32), _conv.window_of(layer.attrs), np.float32(-np.inf))


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = output_shape(layer, [qin.shape])
    params = {"precision": precision, **_conv.window_params(qin.shape, _conv.window_of(layer.attrs))}
    if precision == "fp16":
        return QLayer(params=params, **base), fp16.tensor(shape)
    return QLayer(params=params, **base), QTensor(shape=shape, scale=qin.scale,
                                                  zero_point=qin.zero_point)


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    g = _conv.window_of(qlayer.params)
    if qlayer.params["precision"] == "fp16":
        return fp16.canonical(_max_over_taps(np.asarray(xs[0], np.float16), g,
                                             np.float16(-np.inf)))
    return _max_over_taps(xs[0], g, np.int8(-128))

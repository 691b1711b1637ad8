"""Softmax over a vector's features, or over an image's channels at every pixel.

float:  y[i] = e^(x[i] - m) / sum_j e^(x[j] - m),   m = max_j x[j]
int8:   d[i] = max_j xq[j] - xq[i]                              (0 .. 255)
        e[i] = table[d[i]],  table[d] = round(2^15 e^(-s_x d))   (int32, Q15, offline)
        S    = sum_i e[i]                                        (int32: a row < 2^15)
        y[i] = clamp(floor((2^9 e[i] + S) / (2 S)) - 128, -128, 127)
        the output scale 1/256, zero point -128 (the range [0, 1), no calibration)
fp16:   m as the C finds it (the first value, then every larger one); in f32:
        t[i] = f32(f32(x[i] - m) * log2 e),  e[i] = 2^t[i] (mcuq.fp16.exp2_nonpositive),
        S = e[0] + e[1] + ... in order (one f32 rounding per sum),  y[i] = fp16(e[i] / S)
        (a NaN anywhere makes the row NaN; stored as the canonical NaN)
C kernels: mcuq_softmax_s8 / _f16 (firmware/kernels/<isa>/softmax_*.c): a row is a
vector, one pixel's channels (adjacent in HWC), or the last axis of a 2-D or 4-D frame
(row-major); each core takes a share of the rows.
ONNX: Softmax over the axis that holds the features (a vector), the channels (an image)
or the last axis (other frames); before opset 13, over the axes from `axis` on, which
must be that one axis.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import attrs, label
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor

KIND = "softmax"
ONNX_TYPES = ("Softmax",)
OUTPUT_BOUNDS = (0.0, 1.0)  # headroom stops here
OUTPUT_QPARAMS = (1.0 / 256.0, -128)
Q_EXP = 15
MAX_ROW = 1 << 15  # 2^9 e <= 2^24 and 2 S < 2^31 hold for rows below this


def import_onnx(ctx, node) -> list:
    x = ctx.act(node.input[0], node)
    rank = len(x.shape)
    axis = int(attrs(node).get("axis", -1 if ctx.opset >= 13 else 1))
    if not -rank <= axis < rank:
        raise McuqError(f"node {label(node)} (Softmax) has axis {axis}, outside the "
                        f"{rank} axes of its input {list(x.shape)}")
    axis %= rank
    axes = [axis] if ctx.opset >= 13 else list(range(axis, rank))
    moving = [a for a in axes if x.shape[a] != 1]
    what = {"T": "the time (or item) axis", "1": "a singleton axis"}
    rank = len(x.frame_shape)
    contiguous = 0 if rank in (1, 3) else rank - 1  # the frame axis whose values are adjacent
    for a in moving:
        if x.roles[a] != "F":
            return ctx.refuse(f"op Softmax over axis {a} of shape {list(x.shape)}, "
                              f"{what[x.roles[a]]} (node {label(node)}): mcuq normalises within "
                              "a frame, over a vector's features or an image's channels")
        if x.frame_axis(a) != contiguous:
            return ctx.refuse(f"op Softmax over axis {a} of shape {list(x.shape)}, "
                              + ("a spatial axis of the image" if rank == 3 else
                                 "not the frame's last axis")
                              + f" (node {label(node)}): mcuq normalises over an image's "
                              "channels (axis 1), or the last axis of other frames")
    if not moving:
        return ctx.refuse(f"op Softmax over axes of extent 1 only (node {label(node)}): its "
                          "output is 1 everywhere; remove it")
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_={"axis": contiguous})
    return [x.with_frame_shape(out, x.frame_shape)]


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): the exact Softmax (int8: instead of mcuq's exponential table)."""
    return b.node("Softmax", xs, axis=qlayer.params["axis"] + 1)


def rows(shape, axis: int) -> tuple[int, int]:
    """(rows, length) in C memory: a vector is one row, an image one row per pixel, other
    frames one row per value of the axes before the last."""
    return int(np.prod(shape)) // shape[axis], shape[axis]


def run_float(layer: Layer, xs, state) -> np.ndarray:
    x = xs[0].astype(np.float64)
    axis = layer.attrs["axis"] + 1
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    axis = layer.attrs["axis"]
    count, length = rows(qin.shape, axis)
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    params = {"precision": precision, "rows": count, "length": length, "axis": axis}
    if precision == "fp16":
        return QLayer(params=params, **base), fp16.tensor(qin.shape)
    if length >= MAX_ROW:
        raise McuqError(f"layer {layer.name} (from node {layer.source}): int8 Softmax over "
                        f"{length} values; mcuq's int8 kernel takes rows of fewer than "
                        f"{MAX_ROW}: use fp16 for this layer")
    d = np.arange(256, dtype=np.float64)
    table = np.floor(np.exp(-qin.scale * d) * 2.0**Q_EXP + 0.5).astype(np.int32)
    scale, zp = OUTPUT_QPARAMS
    return (QLayer(arrays={"table": table}, params=params, **base),
            QTensor(shape=qin.shape, scale=scale, zero_point=zp))


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    axis = qlayer.params["axis"] + 1
    x = np.moveaxis(xs[0], axis, 1)  # the kernels' arithmetic over axis 1
    if qlayer.params["precision"] == "fp16":
        return np.moveaxis(fp16_softmax(x), 1, axis)
    q = x.astype(np.int64)
    e = qlayer.arrays["table"].astype(np.int64)[q.max(axis=1, keepdims=True) - q]
    total = e.sum(axis=1, keepdims=True)
    y = (e * 512 + total) // (2 * total) - 128
    return np.ascontiguousarray(np.moveaxis(np.clip(y, -128, 127).astype(np.int8), 1, axis))


def fp16_softmax(x: np.ndarray) -> np.ndarray:
    """The fp16 kernel over axis 1 (see the module docstring), rounding as the C does."""
    x = np.asarray(x, np.float16)
    f32 = np.float32
    with np.errstate(invalid="ignore", over="ignore"):
        m = x.max(axis=1, keepdims=True).astype(f32)  # NaN when the row holds one
        t = ((x.astype(f32) - m).astype(f32) * fp16.LOG2E).astype(f32)
        e = fp16.exp2_nonpositive(t)
        total = np.zeros_like(e[:, :1])
        for i in range(e.shape[1]):
            total = (total + e[:, i:i + 1]).astype(f32)
        y = (e / total).astype(np.float16)
    return np.ascontiguousarray(fp16.canonical(y))

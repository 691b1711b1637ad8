"""Sliding windows over an image, shared by the convolutions and max pooling: the ONNX
attributes that place them (kernel, strides, pads, auto_pad), the output size, and the
windows themselves (the im2col the C kernels build, one output pixel at a time).

A window's taps are ordered (ky, kx, c): row by row, and within a tap the channels, as
they lie in an HWC image, so a tap is one contiguous run of C values in C.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import Act, attrs, label
from mcuq.ir import Layer
from mcuq.ops import _activation as activation
from mcuq.ops import _matvec, op
from mcuq.qgraph import QLayer, QTensor


def image_input(ctx, node) -> Act:
    """The node's first input, which must be an image (batch 1, C, H, W)."""
    x = ctx.act(node.input[0], node)
    if len(x.frame_shape) != 3 or x.roles[-3:] != ("F", "F", "F"):
        raise McuqError(f"node {label(node)} ({node.op_type}) needs an image (1, channels, "
                        f"height, width), got an input of shape {list(x.shape)}; mcuq supports "
                        "2-D windows over images only")
    return x


def spatial_keepdims(ctx, node, x: Act, what: str) -> bool:
    """A ReduceMean/ReduceMax node over image `x`: it must reduce the two spatial axes
    (axes from its second input, or its attribute before opset 18); returns keepdims.
    `what` says what it computes, for the refusal ("averages", "takes the max over")."""
    a = attrs(node)
    if len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in ctx.const(node.input[1], node).reshape(-1)]
    else:
        axes = list(a.get("axes", []))
    rank = len(x.shape)
    if sorted(v % rank for v in axes) != [rank - 2, rank - 1]:
        raise McuqError(f"node {label(node)} ({node.op_type}) {what} axes {axes} of shape "
                        f"{list(x.shape)}; mcuq supports the two spatial axes of an image")
    return bool(a.get("keepdims", 1))


def window_attrs(node, image_shape, kernel) -> dict:
    """{"kernel", "stride", "pads" (top, left, bottom, right), "dilation"} of a Conv or
    pooling node over an image of (C, H, W); refuses malformed attributes. ceil_mode=1
    becomes extra bottom/right padding, which "ceil_extra" (rows, columns) also gives."""
    a = attrs(node)
    where = f"node {label(node)} ({node.op_type})"
    kernel = [int(k) for k in kernel]
    if len(kernel) != 2 or min(kernel) < 1:
        raise McuqError(f"{where} has kernel {kernel}; mcuq supports 2-D kernels")
    dilation = [int(d) for d in a.get("dilations", [1, 1])]
    if len(dilation) != 2 or min(dilation) < 1:
        raise McuqError(f"{where} has dilations {dilation}; mcuq needs two of at least 1")
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]  # the rows and columns a window covers
    stride = [int(s) for s in a.get("strides", [1, 1])]
    if len(stride) != 2 or min(stride) < 1:
        raise McuqError(f"{where} has strides {stride}; mcuq needs two strides of at least 1")
    _, h, w = image_shape
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad == "NOTSET":
        p = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
        if len(p) != 4 or min(p) < 0:
            raise McuqError(f"{where} has pads {p}; mcuq needs four non-negative pads")
        pads = [p[0], p[1], p[2], p[3]]
    elif auto_pad == "VALID":
        pads = [0, 0, 0, 0]
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for size, k, s in ((h, span[0], stride[0]), (w, span[1], stride[1])):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            small = total // 2
            pads.append((small, total - small) if auto_pad == "SAME_UPPER" else (total - small, small))
        pads = [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]
    else:
        raise McuqError(f"{where} has auto_pad {auto_pad!r}; mcuq supports NOTSET, VALID, "
                        "SAME_UPPER and SAME_LOWER")
    if max(pads[0], pads[2]) >= span[0] or max(pads[1], pads[3]) >= span[1]:
        raise McuqError(f"{where} pads {pads} as wide as its kernel {kernel}; mcuq needs "
                        "pads smaller than the kernel")
    geometry = {"kernel": kernel, "stride": stride, "pads": pads, "dilation": dilation}
    out_h, out_w = out_size((1, h, w), geometry)
    if out_h < 1 or out_w < 1:
        raise McuqError(f"{where}: its kernel {kernel} does not fit the padded {h}x{w} image")
    if a.get("ceil_mode", 0):
        # the output size rounds up, but a last window that would start in the bottom or
        # right padding is dropped (ONNX); the extra rows and columns the windows cover are
        # padding at the bottom and right (for max pooling exactly what ceil_mode does)
        extra = []
        for i, size in enumerate((h, w)):
            padded = size + pads[i] + pads[i + 2]
            count = -(-(padded - span[i]) // stride[i]) + 1
            if (count - 1) * stride[i] >= size + pads[i]:
                count -= 1
            extra.append(max((count - 1) * stride[i] + span[i] - padded, 0))
        geometry["pads"] = [pads[0], pads[1], pads[2] + extra[0], pads[3] + extra[1]]
        geometry["ceil_extra"] = extra
    return geometry


def spans(g: dict) -> tuple[int, int]:
    """The rows and columns a (dilated) window covers: (k - 1) d + 1."""
    (kh, kw), (dh, dw) = g["kernel"], g.get("dilation", [1, 1])
    return (kh - 1) * dh + 1, (kw - 1) * dw + 1


def out_size(image_shape, g: dict) -> tuple[int, int]:
    _, h, w = image_shape
    (sh, sw), (t, left, b, r) = g["stride"], g["pads"]
    kh, kw = spans(g)
    return (h + t + b - kh) // sh + 1, (w + left + r - kw) // sw + 1


def window_pixels(p: dict) -> np.ndarray:
    """For each output pixel (row-major) and window tap (ky kw + kx) of flat() or
    window_params() geometry, the input pixel iy in_w + ix the tap reads, or -1 for a
    padding tap: (out_h out_w, kh kw)."""
    oy, ox, ky, kx = np.meshgrid(np.arange(p["out_h"]), np.arange(p["out_w"]),
                                 np.arange(p["kernel_h"]), np.arange(p["kernel_w"]),
                                 indexing="ij")
    iy = oy * p["stride_h"] - p["pad_top"] + ky * p.get("dilation_h", 1)
    ix = ox * p["stride_w"] - p["pad_left"] + kx * p.get("dilation_w", 1)
    inside = (iy >= 0) & (iy < p["in_h"]) & (ix >= 0) & (ix < p["in_w"])
    pixels = np.where(inside, iy * p["in_w"] + ix, -1)
    return pixels.reshape(p["out_h"] * p["out_w"], p["kernel_h"] * p["kernel_w"])


def windows(x: np.ndarray, g: dict, pad_value) -> np.ndarray:
    """(batch, C, H, W) -> (batch, out_h, out_w, kh, kw, C): every output pixel's window
    (its taps a dilation apart), padded with pad_value."""
    (sh, sw), (t, left, b, r) = g["stride"], g["pads"]
    dh, dw = g.get("dilation", [1, 1])
    out_h, out_w = out_size(x.shape[1:], g)
    padded = np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)), constant_values=pad_value)
    view = sliding_window_view(padded, spans(g), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :out_h, :out_w]
    return view[..., ::dh, ::dw].transpose(0, 2, 3, 4, 5, 1)


def columns(x: np.ndarray, g: dict, pad_value) -> np.ndarray:
    """(batch, C, H, W) -> (batch * out_h * out_w, kh * kw * C): the im2col, one row per
    output pixel, taps in (ky, kx, c) order."""
    w = windows(x, g, pad_value)
    return np.ascontiguousarray(w).reshape(w.shape[0] * w.shape[1] * w.shape[2], -1)


def to_image(rows: np.ndarray, batch: int, out_hw) -> np.ndarray:
    """(batch * out_h * out_w, C) pixel rows -> (batch, C, out_h, out_w)."""
    return rows.reshape(batch, out_hw[0], out_hw[1], -1).transpose(0, 3, 1, 2)


def window_params(image_shape, g: dict) -> dict:
    """A window's geometry over an image as scalar layer parameters (model.json keeps
    scalars): the image and output sizes, and flat(g)."""
    c, h, w = image_shape
    out_h, out_w = out_size(image_shape, g)
    return {"in_channels": int(c), "in_h": int(h), "in_w": int(w), "out_h": out_h,
            "out_w": out_w, **flat(g)}


def quantize_rows(layer: Layer, qin: QTensor, stats: dict, precision: str, weight: np.ndarray,
                  **params) -> tuple[QLayer, QTensor]:
    """A windowed layer whose weights are rows [out][taps] (a convolution): fp16 weights
    as they are, or int8 by the matvec core (mcuq/ops/_matvec.py). Its params: the
    window, the fused activation, `params`, and for int8 the requantization and the
    input zero point (the value of a padding tap)."""
    act = activation.params(layer.attrs)
    base = dict(kind=layer.kind, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = op(layer.kind).output_shape(layer, [qin.shape])
    params = {**window_params(qin.shape, window_of(layer.attrs)), **params, **act}
    what = f"layer {layer.name}"
    if precision == "fp16":
        arrays = {"weight": fp16.to_fp16(weight, what),
                  "bias": fp16.to_fp16(layer.weights["bias"], what)}
        return QLayer(arrays=arrays, params={"precision": "fp16", **params}, **base), \
            fp16.tensor(shape)
    arrays, qparams, out_scale = _matvec.quantize_int8(
        weight, layer.weights["bias"], qin.scale, qin.zero_point, stats, act, what,
        layer.attrs.get("weight_bits", 8), layer.attrs.get("weight_range", "max"),
        layer.attrs.get("weight_outliers", 0.0))
    qlayer = QLayer(arrays=arrays, params={"precision": "int8", **params, **qparams,
                                           "in_zero_point": qin.zero_point}, **base)
    return qlayer, QTensor(shape=shape, scale=out_scale, zero_point=qparams["out_zero_point"])


def flat(g: dict) -> dict:
    """A window as scalar layer attributes (the keys window_of reads): the IR's form,
    which a float reference export keeps in model.json as it is."""
    dilation = g.get("dilation", [1, 1])
    return {"kernel_h": g["kernel"][0], "kernel_w": g["kernel"][1], "stride_h": g["stride"][0],
            "stride_w": g["stride"][1], "pad_top": g["pads"][0], "pad_left": g["pads"][1],
            "pad_bottom": g["pads"][2], "pad_right": g["pads"][3],
            "dilation_h": dilation[0], "dilation_w": dilation[1]}


def window_of(params: dict) -> dict:
    """The geometry back from flat() attributes or window_params()."""
    p = params
    return {"kernel": [p["kernel_h"], p["kernel_w"]], "stride": [p["stride_h"], p["stride_w"]],
            "pads": [p["pad_top"], p["pad_left"], p["pad_bottom"], p["pad_right"]],
            "dilation": [p.get("dilation_h", 1), p.get("dilation_w", 1)]}

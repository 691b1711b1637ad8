"""Pad: a constant border around an image (ONNX Pad, mode "constant", on the two spatial
axes), and between its pixels (`stride_h`, `stride_w` > 1: the zeros a transposed
convolution inserts, mcuq.ops.conv2d). A zero border before a convolution is folded into
the convolution's own padding by the fold_pad pass (mcuq.passes); what remains is this
layer.

float:  y[c, top + iy sy, left + ix sx] = x[c, iy, ix]; every other output value is v
int8:   the same on the codes; the output keeps the input's scale and zero point and the
        border is v's code: clamp(floor(v / s_x + 0.5) + zp_x, -128, 127)
fp16:   the border is fp16(v)
C kernels: mcuq_pad_s8 / _f16 (firmware/kernels/<isa>/pad_*.c): each core takes a share
of the output pixels; a pixel is C contiguous values (HWC).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import attrs, label
from mcuq.ir import Layer
from mcuq.ops import _conv
from mcuq.qgraph import QLayer, QTensor

KIND = "pad"
ONNX_TYPES = ("Pad",)


def import_onnx(ctx, node) -> list:
    x = _conv.image_input(ctx, node)
    a = attrs(node)
    where = f"node {label(node)} (Pad)"
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode != "constant":
        raise McuqError(f"{where} pads in mode '{mode}'; mcuq supports constant padding")
    rank = len(x.shape)
    if len(node.input) > 1 and node.input[1]:
        pads = [int(v) for v in ctx.const(node.input[1], node).reshape(-1)]
    else:
        pads = [int(v) for v in a.get("pads", [])]
    axes = list(range(rank))
    if len(node.input) > 3 and node.input[3]:
        axes = [int(v) % rank for v in ctx.const(node.input[3], node).reshape(-1)]
    if len(pads) != 2 * len(axes):
        raise McuqError(f"{where} has {len(pads)} pads for {len(axes)} axes; ONNX needs two per axis")
    begin, end = dict(zip(axes, pads[:len(axes)])), dict(zip(axes, pads[len(axes):]))
    if any(v < 0 for v in pads):
        raise McuqError(f"{where} has negative pads {pads} (a crop); mcuq supports borders only")
    if any(begin.get(i, 0) or end.get(i, 0) for i in range(rank - 2)):
        raise McuqError(f"{where} pads axes other than height and width (pads {pads}); mcuq "
                        "pads the two spatial axes of an image")
    value = 0.0
    if len(node.input) > 2 and node.input[2]:
        value = float(ctx.const(node.input[2], node).reshape(-1)[0])
    elif "value" in a:
        value = float(a["value"])
    border = {"pad_top": begin.get(rank - 2, 0), "pad_left": begin.get(rank - 1, 0),
              "pad_bottom": end.get(rank - 2, 0), "pad_right": end.get(rank - 1, 0)}
    if not any(border.values()):
        return [x]
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_={**border, "value": value})
    return [x.with_frame_shape(out, ctx.tensors[out].shape)]


def strides(a: dict) -> tuple[int, int]:
    """The distance of neighbouring input pixels in the output (1: adjacent)."""
    return a.get("stride_h", 1), a.get("stride_w", 1)


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Pad (a border only: ONNX has no padding between pixels)."""
    p = qlayer.params
    if strides(p) != (1, 1):
        raise McuqError(f"layer {qlayer.name} (pad) spreads its image out (a transposed "
                        "convolution), which ONNX's Pad cannot express")
    pads = np.array([0, 0, p["pad_top"], p["pad_left"], 0, 0, p["pad_bottom"], p["pad_right"]],
                    np.int64)
    return b.node("Pad", [xs[0], b.const("pads", pads), b.const("value", np.float32(p["value"]))])


def output_shape(layer: Layer, shapes):
    c, h, w = shapes[0]
    a = layer.attrs
    sh, sw = strides(a)
    return (c, (h - 1) * sh + 1 + a["pad_top"] + a["pad_bottom"],
            (w - 1) * sw + 1 + a["pad_left"] + a["pad_right"])


def _pad(x: np.ndarray, p: dict, value) -> np.ndarray:
    batch, c, h, w = x.shape
    sh, sw = strides(p)
    y = np.full((batch, c, (h - 1) * sh + 1 + p["pad_top"] + p["pad_bottom"],
                 (w - 1) * sw + 1 + p["pad_left"] + p["pad_right"]), value, x.dtype)
    y[:, :, p["pad_top"]:p["pad_top"] + (h - 1) * sh + 1:sh,
      p["pad_left"]:p["pad_left"] + (w - 1) * sw + 1:sw] = x
    return y


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return _pad(xs[0], layer.attrs, np.float32(layer.attrs["value"])).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    c, h, w = qin.shape
    a = layer.attrs
    sh, sw = strides(a)
    params = {"precision": precision, "channels": c, "in_h": h, "in_w": w,
              **{k: a[k] for k in ("pad_top", "pad_left", "pad_bottom", "pad_right")},
              "stride_h": sh, "stride_w": sw, "value": a["value"]}
    shape = output_shape(layer, [qin.shape])
    if precision == "fp16":
        return QLayer(params=params, **base), fp16.tensor(shape)
    params["value_code"] = int(fx.quantize_activation(np.array([a["value"]]), qin.scale,
                                                      qin.zero_point)[0])
    return QLayer(params=params, **base), QTensor(shape=shape, scale=qin.scale,
                                                  zero_point=qin.zero_point)


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    p = qlayer.params
    if p["precision"] == "fp16":
        return fp16.canonical(_pad(np.asarray(xs[0], np.float16), p, np.float16(p["value"])))
    return _pad(xs[0], p, np.int8(p["value_code"]))


def c_values(qlayer: QLayer) -> dict:
    """The fp16 border as its bits (exact, infinities included)."""
    return {"value_bits": fp16.bits(qlayer.params["value"])}

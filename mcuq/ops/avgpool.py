"""Average pooling over windows of an image (ONNX AveragePool with a window smaller than
the image; over the whole image it is global_avgpool).

float:  y[c, oy, ox] = (1 / d) sum over the window's taps inside the image of x[c, iy, ix]
        d = the taps inside the image (count_include_pad=0, ONNX's default) or
        kernel_h kernel_w (count_include_pad=1: padding counts as zeros)
int8:   sum[c] = sum over the taps inside of (xq - zp_x)                  (int32)
        y[c]   = clamp(zp_y + requant(sum[c], M[d]), -128, 127)
        M[d] ~ s_x / (d s_y): one multiplier per divisor d = 1 .. kernel_h kernel_w
fp16:   acc = 0 (float32); for the taps inside, in (ky, kx) order: acc = f32(acc + f32(x));
        y = fp16(acc / d)
C kernels: mcuq_avgpool_s8 / _f16 (firmware/kernels/<isa>/avgpool_*.c): each core takes a
share of the output pixels; a tap is C contiguous values (HWC).
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

KIND = "avgpool"
HEADER = "mcuq_pool.h"


def import_window(ctx, node, x, g: dict) -> list:
    """An AveragePool node over `x` with window `g` (from global_avgpool, which owns the
    ONNX type)."""
    include_pad = int(attrs(node).get("count_include_pad", 0))
    extra = g.get("ceil_extra", [0, 0])
    if include_pad and any(extra):
        # ONNX divides by the taps inside the padded image: without padding, the taps
        # inside the image
        real_pads = [g["pads"][0], g["pads"][1], g["pads"][2] - extra[0], g["pads"][3] - extra[1]]
        if any(real_pads):
            raise McuqError(f"node {label(node)} (AveragePool) has ceil_mode=1 with "
                            "count_include_pad=1 and padding, and its last windows reach "
                            "beyond the padding, where ONNX counts neither pad nor value; mcuq "
                            "supports that with count_include_pad=0 or without padding")
        include_pad = 0
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_={**_conv.flat(g),
                                                       "count_include_pad": include_pad})
    return [x.with_frame_shape(out, ctx.tensors[out].shape)]


def onnx_nodes(qlayer, b, xs: list) -> str:
    g = _conv.window_of(qlayer.params)
    return b.node("AveragePool", xs, kernel_shape=g["kernel"], strides=g["stride"],
                  pads=list(g["pads"]), count_include_pad=int(qlayer.params["count_include_pad"]))


def output_shape(layer: Layer, shapes):
    return (shapes[0][0], *_conv.out_size(shapes[0], _conv.window_of(layer.attrs)))


def divisors(p: dict, in_hw) -> np.ndarray:
    """(out_h, out_w) the divisor d of every output pixel."""
    g = _conv.window_of(p)
    (kh, kw), (sh, sw), (top, left, _, _) = g["kernel"], g["stride"], g["pads"]
    dh, dw = g["dilation"]
    out_h, out_w = _conv.out_size((1, *in_hw), g)
    if p["count_include_pad"]:
        return np.full((out_h, out_w), kh * kw, np.int64)

    def inside(out, stride, pad, k, d, size):
        """Of the taps start + t d (t < k), how many lie in [0, size)."""
        taps = (np.arange(out) * stride - pad)[:, None] + d * np.arange(k)[None, :]
        return ((taps >= 0) & (taps < size)).sum(axis=1)

    return np.outer(inside(out_h, sh, top, kh, dh, in_hw[0]),
                    inside(out_w, sw, left, kw, dw, in_hw[1]))


def _taps(x: np.ndarray, g: dict) -> tuple[np.ndarray, np.ndarray]:
    """(batch, out_h, out_w, taps, C) values with the padding as 0, and (taps,) flags of
    which taps lie inside the image for each pixel: (out_h, out_w, taps)."""
    w = _conv.windows(x, g, 0)
    inside = _conv.windows(np.ones((1, 1, *x.shape[2:]), bool), g, False)[0, :, :, :, :, 0]
    return (w.reshape(*w.shape[:3], -1, w.shape[-1]),
            inside.reshape(*inside.shape[:2], -1))


def run_float(layer: Layer, xs, state) -> np.ndarray:
    x = xs[0].astype(np.float64)
    t, _ = _taps(x, _conv.window_of(layer.attrs))
    d = divisors(layer.attrs, x.shape[2:])
    y = t.sum(axis=3) / d[None, :, :, None]
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    shape = output_shape(layer, [qin.shape])
    params = {"precision": precision, **_conv.window_params(qin.shape, _conv.window_of(layer.attrs)),
              "count_include_pad": int(layer.attrs["count_include_pad"])}
    if precision == "fp16":
        return QLayer(params=params, **base), fp16.tensor(shape)
    # M[1] = s_x / s_y must stay below 2^30
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"],
                                              min_scale=qin.scale * 2.0**-29)
    taps = params["kernel_h"] * params["kernel_w"]
    mult, shift = fx.quantize_multipliers(qin.scale / (np.arange(1, taps + 1) * out_scale))
    params.update({"in_zero_point": qin.zero_point, "out_zero_point": out_zp})
    return (QLayer(arrays={"mult": mult, "shift": shift}, params=params, **base),
            QTensor(shape=shape, scale=out_scale, zero_point=out_zp))


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    a, p = qlayer.arrays, qlayer.params
    g = _conv.window_of(p)
    x = xs[0]
    d = divisors(p, x.shape[2:])
    if p["precision"] == "fp16":
        t, inside = _taps(np.asarray(x, np.float16), g)
        acc = np.zeros(t.shape[:3] + t.shape[-1:], np.float32)
        for k in range(t.shape[3]):  # in (ky, kx) order, the taps inside only
            acc = np.where(inside[None, :, :, k, None], acc + t[:, :, :, k].astype(np.float32), acc)
        y = (acc / d[None, :, :, None].astype(np.float32)).astype(np.float16)
        return fp16.canonical(np.ascontiguousarray(y.transpose(0, 3, 1, 2)))
    t, inside = _taps(x.astype(np.int64) - p["in_zero_point"], g)
    total = (t * inside[None, :, :, :, None]).sum(axis=3)
    y = p["out_zero_point"] + fx.requant(total, a["mult"][d - 1][None, :, :, None],
                                         a["shift"][d - 1][None, :, :, None])
    y = fx.saturate(y, -128, 127).astype(np.int8)
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2))


def macs(qlayer: QLayer) -> int:
    p = qlayer.params
    return p["out_h"] * p["out_w"] * p["in_channels"] * p["kernel_h"] * p["kernel_w"]

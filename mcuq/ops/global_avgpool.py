"""Global average pooling: the mean of every channel over the image.

float:  y[c] = (1 / HW) sum_{iy, ix} x[c, iy, ix]
int8:   sum[c] = sum_{pixels} (xq - zp_x)                      (int32)
        y[c]   = clamp(zp_y + requant(sum[c], M), -128, 127)     M ~ s_x / (HW s_y)
fp16:   acc = 0 (float32); for pixels in order: acc = f32(acc + f32(x)); y = fp16(acc / HW)
        (float32 accumulation: HW values of up to 65504 cannot overflow it)
C kernels: mcuq_global_avgpool_s8 / _f16 (firmware/kernels/<isa>/global_avgpool_*.c):
each core takes a share of the channels.
ONNX: GlobalAveragePool; ReduceMean over the two spatial axes (keepdims 0 or 1);
AveragePool whose kernel covers the whole image (a smaller window is an avgpool layer).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.frontend.onnx_node import Act, attrs
from mcuq.ir import Layer
from mcuq.ops import _conv, avgpool
from mcuq.qgraph import QLayer, QTensor

KIND = "global_avgpool"
ONNX_TYPES = ("GlobalAveragePool", "ReduceMean", "AveragePool")
HEADER = "mcuq_pool.h"


def import_onnx(ctx, node) -> list:
    x = _conv.image_input(ctx, node)
    a = attrs(node)
    keepdims = True
    if node.op_type == "ReduceMean":
        keepdims = _conv.spatial_keepdims(ctx, node, x, "averages")
    elif node.op_type == "AveragePool":
        g = _conv.window_attrs(node, x.frame_shape, a.get("kernel_shape", []))
        if _conv.out_size(x.frame_shape, g) != (1, 1) or any(g["pads"]) or (
                list(g["kernel"]) != list(x.frame_shape[1:])):
            return avgpool.import_window(ctx, node, x, g)  # a window smaller than the image
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_={"keepdims": keepdims})
    if keepdims:
        return [x.with_frame_shape(out, ctx.tensors[out].shape)]
    return [Act(out, x.roles[:-2], x.shape[:-2])]


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    y = b.node("GlobalAveragePool", xs)
    if qlayer.params["keepdims"]:
        return y
    return b.node("Flatten", [y], axis=1)


def output_shape(layer: Layer, shapes):
    return (shapes[0][0], 1, 1) if layer.attrs["keepdims"] else (shapes[0][0],)


def run_float(layer: Layer, xs, state) -> np.ndarray:
    y = xs[0].astype(np.float64).mean(axis=(2, 3))
    return y.reshape(y.shape + (1, 1) if layer.attrs["keepdims"] else y.shape).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    channels, h, w = qin.shape
    shape = output_shape(layer, [qin.shape])
    params = {"precision": precision, "channels": channels, "pixels": h * w,
              "keepdims": int(layer.attrs["keepdims"])}
    if precision == "fp16":
        return QLayer(params=params, **base), fp16.tensor(shape)
    # M = s_x / (HW s_y) must stay below 2^30
    out_scale, out_zp = fx.activation_qparams(stats["min"], stats["max"],
                                              min_scale=qin.scale / (h * w) * 2.0**-29)
    mult, shift = fx.quantize_multiplier(qin.scale / (h * w * out_scale))
    params.update({"in_zero_point": qin.zero_point, "mult": mult, "shift": shift,
                   "out_zero_point": out_zp})
    return QLayer(params=params, **base), QTensor(shape=shape, scale=out_scale, zero_point=out_zp)


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    p = qlayer.params
    x = xs[0]
    batch = x.shape[0]
    pixels = x.reshape(batch, p["channels"], p["pixels"])
    shape = (batch, p["channels"], 1, 1) if p["keepdims"] else (batch, p["channels"])
    if p["precision"] == "fp16":
        acc = np.zeros((batch, p["channels"]), np.float32)
        for i in range(p["pixels"]):
            acc = acc + pixels[:, :, i].astype(np.float32)
        y = (acc / np.float32(p["pixels"])).astype(np.float16)
        return fp16.canonical(y).reshape(shape)
    total = (pixels.astype(np.int64) - p["in_zero_point"]).sum(axis=2)
    y = p["out_zero_point"] + fx.requant(total, p["mult"], p["shift"])
    return fx.saturate(y, -128, 127).astype(np.int8).reshape(shape)


def macs(qlayer: QLayer) -> int:
    return qlayer.params["channels"] * qlayer.params["pixels"]

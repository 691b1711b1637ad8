"""Depthwise 2-D convolution (groups = channels, one filter per channel), optionally
with a fused ReLU. Imported from ONNX Conv by mcuq/ops/conv2d.py.

float:  y[c, oy, ox] = b[c] + sum_{ky, kx} W[c, ky, kx] x[c, oy sy - pt + ky, ox sx - pl + kx]
        (x = 0 outside the image; max(y, 0) with a fused ReLU)
int8:   acc[c] = bq[c] + sum_{ky, kx} Wq[c, ky, kx] xq[c, ...]   (int32; zp_x folded into
        bq, so a padding tap adds zp_x Wq, as if the image were padded with zp_x)
        y[c]   = clamp(zp_y + requant(acc[c], M[c]), act_min, 127)
fp16:   acc = b[c]; for (ky, kx) in order: acc = fp16(acc + fp16(W[c, ky, kx] x))
        (x = +0 on a padding tap)
C kernels: mcuq_depthwise_conv2d_s8 / _f16 (firmware/kernels/<isa>/depthwise_conv2d_*.c).
int8 3x3 without dilation, on maps of 2 pixels or more: each core takes a share of the
channels, lays each channel out as a padded plane of its own and runs three 3-tap dot
products per output (SIMD on xcv). Otherwise each core takes a share of the output
pixels and accumulates all
channels of a pixel in its own row of scratch, tap by tap, so every tap reads C
contiguous input values and C contiguous weights. Weight layout: [ky][kx][c].
"""
from __future__ import annotations

import dataclasses

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import layouts
from mcuq.chip import MAX_CORES
from mcuq.ir import Layer
from mcuq.ops import _activation as activation
from mcuq.ops import _conv, op
# declarations of this op that are the dense convolution's
from mcuq.ops.conv2d import branch_kernel, fold_affine, fold_pad, fuse_clip, merged_kernel  # noqa: F401
from mcuq.qgraph import QLayer, QTensor

KIND = "depthwise_conv2d"
HEADER = "mcuq_conv2d.h"


def identity_kernel(scale: np.ndarray, shift: np.ndarray) -> tuple:
    """The 1x1 depthwise kernel of y[c] = scale[c] x[c] + shift[c] (MobileOne's
    BatchNorm'd identity)."""
    return (np.asarray(scale, np.float64).reshape(-1, 1, 1), np.asarray(shift, np.float64),
            (1, 1))


def _image(shape) -> tuple[int, int, int]:
    """A vector of C features is a 1x1 image of C channels (the same bytes in C): a
    per-feature scale that folds into nothing runs as a 1x1 depthwise layer."""
    return tuple(shape) if len(shape) == 3 else (shape[0], 1, 1)


def output_shape(layer: Layer, shapes):
    if len(shapes[0]) == 1:
        return tuple(shapes[0])
    return (shapes[0][0], *_conv.out_size(shapes[0], _conv.window_of(layer.attrs)))


def _on_images(fn, x: np.ndarray, *args) -> np.ndarray:
    """fn on (batch, C, H, W); a batch of vectors goes through as 1x1 images."""
    if x.ndim == 2:
        return fn(x.reshape(x.shape[0], x.shape[1], 1, 1), *args).reshape(x.shape[0], -1)
    return fn(x, *args)


def taps(x: np.ndarray, g: dict, pad_value) -> np.ndarray:
    """(batch, C, H, W) -> (batch, out_h, out_w, kh * kw, C)."""
    w = _conv.windows(x, g, pad_value)
    return w.reshape(*w.shape[:3], -1, w.shape[-1])


def to_image(y: np.ndarray) -> np.ndarray:
    """(batch, out_h, out_w, C) -> (batch, C, out_h, out_w)."""
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2))


# -- float and quantized -----------------------------------------------------
def run_float(layer: Layer, xs, state) -> np.ndarray:
    return _on_images(_float_images, xs[0], layer)


def _float_images(x: np.ndarray, layer: Layer) -> np.ndarray:
    w = layer.weights["weight"]  # (C, kh, kw)
    t = taps(x, _conv.window_of(layer.attrs), 0.0)
    y = np.einsum("bhwtc,ct->bhwc", t, w.reshape(w.shape[0], -1)) + layer.weights["bias"]
    return to_image(activation.run_float(y, layer.attrs)).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    cfws = op("depthwise_conv2d_cfws")
    if precision == "int8" and layer.attrs.get("cfws") and cfws.splits(layer):
        return cfws.quantize(layer, qins, stats, precision)
    qlayer, qout = quantize_plain(layer, qins, stats, precision)
    return shorten_multipliers(qlayer), qout


def shorten_multipliers(qlayer: QLayer) -> QLayer:
    """An int8 layer of the plane kernel gets short multipliers where they keep enough
    bits (fixedpoint.short_multipliers): its column loops then requantize with `mul`
    (1 cycle) instead of `mulh` (5), a third of a 3x3 output's cycles. Only where those
    loops run (the activation range all of int8): elsewhere the shorter multiplier would
    lose precision for nothing."""
    p, a = qlayer.params, qlayer.arrays
    if not _column_loops(qlayer):
        return qlayer
    mult, shift = fx.short_multipliers(a["mult"], a["shift"], _bound(a), p["out_zero_point"])
    return dataclasses.replace(qlayer, arrays={**a, "mult": mult, "shift": shift})


def _column_loops(qlayer: QLayer) -> bool:
    """Whether the plane kernel's column loops (or the map kernel's one loop) run this
    layer: its plane or map path, the activation range all of int8 (their clamp), and
    plain weights (no side list)."""
    p = qlayer.params
    return ((plane_path(p) or map_path(qlayer)) and p["act_min"] == -128
            and p["act_max"] == 127 and set(qlayer.arrays) == {"weight", "bias", "mult", "shift"})


def _bound(a: dict) -> np.ndarray:
    return fx.accumulator_bound(a["weight"].reshape(a["weight"].shape[0], -1), a["bias"])


def requant_mul(qlayer: QLayer) -> int:
    """The struct's requant_mul: which channels the kernel requantizes with one 32-bit
    multiply (mcuq_requant_mul8), where the activation range is all of int8 and
    fixedpoint.mul32_fits holds for the channel's |acc| bound. 2: every channel; the
    loops over a chunk of channels take such a layer (the plane kernel's small maps, the
    map kernel's). 1: every channel but some of shift above 31 (a multiplier kept long):
    the plane kernel's column loops take the others, its row loop those with the general
    requantization. 0: none. Worked out from the arrays as they are, whatever made
    them."""
    p, a = qlayer.params, qlayer.arrays
    if qlayer.kind != KIND or not _column_loops(qlayer):
        return 0
    fits = fx.mul32_fits(a["mult"], a["shift"], _bound(a), p["out_zero_point"])
    long = np.asarray(a["shift"]) > 31
    return 2 if np.all(fits & ~long) else int(bool(np.all(fits | long)))


def quantize_plain(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    """The layer quantized as it is (no coarse & fine split), with the multipliers of
    quantize_int8."""
    w = layer.weights["weight"]
    qin = qins[0]
    image = dataclasses.replace(qin, shape=_image(qin.shape))
    qlayer, qout = _conv.quantize_rows(layer, image, stats, precision,
                                       w.reshape(w.shape[0], -1))  # [c][ky * kx]
    return qlayer, dataclasses.replace(qout, shape=output_shape(layer, [qin.shape]))


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    return _on_images(_device_images, xs[0], qlayer)


def _device_images(x: np.ndarray, qlayer: QLayer) -> np.ndarray:
    xs = [x]
    a, p = qlayer.arrays, qlayer.params
    g = _conv.window_of(p)
    if p["precision"] == "fp16":
        t = taps(np.asarray(xs[0], np.float16), g, np.float16(0.0))
        w = np.asarray(a["weight"], np.float16)
        acc = np.broadcast_to(a["bias"], t.shape[:3] + t.shape[-1:]).astype(np.float16)
        for k in range(t.shape[3]):
            acc = acc + w[:, k] * t[:, :, :, k]
        return to_image(activation.run_fp16(acc, p))
    t = taps(xs[0], g, np.int8(p["in_zero_point"])).astype(np.int64)
    acc = np.einsum("bhwtc,ct->bhwc", t, a["weight"].astype(np.int64)) + a["bias"]
    y = p["out_zero_point"] + fx.requant(acc, a["mult"], a["shift"])
    return to_image(fx.saturate(y, p["act_min"], p["act_max"]).astype(np.int8))


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): a grouped Conv (a vector runs as a 1x1 image), then the clamp."""
    p = qlayer.params
    g = _conv.window_of(p)
    c = p["in_channels"]
    weight = qlayer.arrays["weight"].reshape(c, 1, g["kernel"][0], g["kernel"][1])
    w, bias = b.weights(qlayer, weight)
    vector = len(b.qgraph.tensors[qlayer.inputs[0]].shape) == 1
    x = b.node("Reshape", [xs[0], b.const("shape", np.array([1, c, 1, 1], np.int64))]) if vector else xs[0]
    y = b.node("Conv", [x, w, bias], kernel_shape=g["kernel"], strides=g["stride"],
               pads=list(g["pads"]), group=c)
    y = b.activation(y, p)
    return b.node("Reshape", [y, b.const("shape", np.array([1, c], np.int64))]) if vector else y


# -- device ------------------------------------------------------------------
def macs(qlayer: QLayer) -> int:
    """One product per tap, channel and output pixel (a per-channel scale of a vector, as
    a broadcast multiply imports: one pixel, one tap)."""
    p = qlayer.params
    return (p.get("out_h", 1) * p.get("out_w", 1) * p["in_channels"] * p.get("kernel_h", 1)
            * p.get("kernel_w", 1))


def plane_rows(p: dict) -> int:
    """Rows of the int8 3x3 kernel's plane of one channel (depthwise_conv2d_s8.c, the same
    formula as mcuq_depthwise_plane_rows in depthwise.h); 0 for other kernels."""
    square = (p.get("kernel_h", 1), p.get("kernel_w", 1), p.get("dilation_h", 1),
              p.get("dilation_w", 1)) == (3, 3, 1, 1)
    return (p["out_h"] - 1) * p["stride_h"] + 3 if square else 0


def plane_stride(p: dict) -> int:
    """Bytes per plane row: the padded row and a byte past it (a word read at the last
    window reads it, and meets a zero tap), to a whole word."""
    return ((p.get("out_w", 1) - 1) * p.get("stride_w", 1) + 3 + 4) & ~3


# each core's planes take at most this much scratch (16 KiB on 8 cores): more would push
# a network's arena out of L1 sooner than the faster gathering pays back
PLANES_BYTES = 2048


def plane_words(p: dict) -> int:
    return -(-plane_rows(p) * plane_stride(p) // 4)


def planes(p: dict) -> int:
    """Planes per core of the int8 3x3 kernel (the struct's `planes`): as many as fit in
    PLANES_BYTES, in fours (mcuq_gather_planes4_s8 gathers four channels at a time), and
    no more than the channels need; 1 where four do not fit. The kernel takes a core's
    channels in chunks of that many (on a small map, one loop over a whole chunk:
    mcuq_dw3_channels_s8)."""
    if not plane_path(p):
        return 1
    fours = PLANES_BYTES // (4 * plane_words(p)) // 4
    return min(4 * fours, 4 * -(-p["in_channels"] // 4)) if fours else 1


def work_words(p: dict) -> int:
    """int32 words of a core's scratch: one pixel's accumulators, or the planes (the
    kernel lays out one or the other per core, mcuq_depthwise_plane_words)."""
    return max(-(-p["in_channels"] // 2) * 2, planes(p) * plane_words(p))


def c_scratch(qlayer: QLayer, isa: str) -> list:
    """Each core's accumulators for one pixel's channels (fp16), or, for int8, those or
    the 3x3 kernel's plane of one channel."""
    p = qlayer.params
    if p["precision"] == "fp16":
        return [("work", "float16", MAX_CORES * (-(-p["in_channels"] // 2) * 2))]
    return [("work", "int32", MAX_CORES * work_words(p))]


def plane_path(p: dict) -> bool:
    """Whether the int8 kernel runs on planes (depthwise_conv2d_s8.c: a 3x3 kernel without
    dilation, on a map of 2 pixels or more, from an input larger than a word's map); it
    reads its weights by window rows."""
    return (p["precision"] == "int8" and plane_rows(p) > 0 and p["out_h"] * p["out_w"] > 1
            and not word_map(p))


# input pixels of a map that one word holds (a channel's whole map, one byte a pixel)
MAP_PIXELS = 4


def word_map(p: dict) -> bool:
    """Whether an int8 layer's input map fits in a word: at most MAP_PIXELS pixels
    (depthwise_conv2d_s8.c's map kernel, the same test as mcuq_depthwise_word_map)."""
    return p["precision"] == "int8" and p.get("in_h", 1) * p.get("in_w", 1) <= MAP_PIXELS


def map_path(qlayer: QLayer) -> bool:
    """Whether the int8 kernel runs this layer on word maps: a plain depthwise layer (the
    CFWS kernel reads taps) whose input map fits in a word; its arrays come from
    map_arrays."""
    return qlayer.kind == KIND and word_map(qlayer.params)


def map_arrays(weight: np.ndarray, bias: np.ndarray, p: dict) -> tuple:
    """The map kernel's weights and biases, per channel and output pixel: the word of
    the taps that meet each input pixel (byte iy in_w + ix; 0 where no tap does), and the
    bias with the zp_x Wq of that output's padding taps folded in (the same sum as the
    twin's, whose padding holds zp_x). Each output is then one 4-way dot product of the
    channel's map word: [c][out pixel][4] int8, [c][out pixel] int32."""
    pixels = _conv.window_pixels(p)  # [out pixel][tap]
    w = np.asarray(weight, np.int64).reshape(len(bias), -1)
    words = np.zeros((len(bias), len(pixels), MAP_PIXELS), np.int8)
    out, tap = np.nonzero(pixels >= 0)
    words[:, out, pixels[out, tap]] = w[:, tap]
    return words, padded_bias(w, bias, pixels, p)


def padded_bias(w: np.ndarray, bias: np.ndarray, pixels: np.ndarray, p: dict) -> np.ndarray:
    """The bias of each channel and output pixel with the zp_x Wq of that output's padding
    taps (pixels -1, from _conv.window_pixels) folded in: [c][out pixel] int32."""
    pad = w @ (pixels < 0).T.astype(np.int64)
    return (np.asarray(bias, np.int64)[:, None] + p["in_zero_point"] * pad).astype(np.int32)


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    """The weights [tap][c], or by window rows for the plane kernel (the CFWS kernel,
    which shares these arrays, reads taps). On an int8 1-pixel map the padding taps'
    zp_x Wq are folded into the bias (the same sum: the kernel skips those taps,
    mcuq_depthwise_taps_s8)."""
    arrays = dict(qlayer.arrays)
    p = qlayer.params
    if map_path(qlayer):
        arrays["weight"], arrays["bias"] = map_arrays(arrays["weight"], arrays["bias"], p)
        return arrays
    rows = qlayer.kind == KIND and plane_path(p)
    if p["precision"] == "int8" and p.get("out_h", 1) * p.get("out_w", 1) == 1:
        w = np.asarray(arrays["weight"], np.int64).reshape(len(arrays["bias"]), -1)
        arrays["bias"] = padded_bias(w, arrays["bias"], _conv.window_pixels(p), p)[:, 0]
    arrays["weight"] = layouts.arrange(isa, "taps_rows" if rows else "taps", arrays["weight"])
    return arrays


def c_values(qlayer: QLayer) -> dict:
    values = activation.c_values(qlayer.params)
    if qlayer.params["precision"] == "int8":
        values.update(requant_mul=requant_mul(qlayer), planes=planes(qlayer.params))
    return values

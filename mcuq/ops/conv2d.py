"""2-D convolution over an image (groups = 1), optionally with a fused ReLU.

float:  y[co, oy, ox] = b[co] + sum_{ky, kx, ci} W[co, ci, ky, kx] x[ci, oy sy - pt + ky,
        ox sx - pl + kx]        (x = 0 outside the image; max(y, 0) with a fused ReLU)
int8, fp16: per output pixel, the matvec core of mcuq/ops/_matvec.py on the pixel's
        im2col column (taps in (ky, kx, ci) order; padding taps hold the input zero point
        in int8, so that the bias folding zp_x sum W stays exact, and +0 in fp16).
C kernels: mcuq_conv2d_s8 (firmware/kernels/<isa>/conv2d_s8.c), mcuq_conv2d_f16
(conv2d_f16.c): each core takes a share of the output pixels, builds each pixel's column
in its own scratch (a 1x1 convolution without padding reads the input pixel in place),
and runs every output channel on it, so one column feeds all output channels.
Weight layout: [out][ky][kx][ci] in the ISA's "matvec" layout. ONNX: Conv with group 1
(depthwise convolutions become depthwise_conv2d layers); ConvTranspose as the convolution
it equals (import_transposed).
"""
from __future__ import annotations

import numpy as np

from mcuq import layouts
from mcuq import outliers as outlier_list
from mcuq.chip import MAX_CORES
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import attrs, label
from mcuq.ir import Layer
from mcuq.ops import _activation as activation
from mcuq.ops import _equalize
from mcuq.ops import _conv, _matvec, op
from mcuq.qgraph import QLayer, QTensor

KIND = "conv2d"
ONNX_TYPES = ("Conv", "ConvTranspose")
WEIGHTS = ("weight", "outlier_value")  # the dense codes and the outliers kept aside
OUTLIERS = True  # --weight-outliers: the matvec core's side list


# -- import ------------------------------------------------------------------
def import_onnx(ctx, node) -> list:
    if node.op_type == "ConvTranspose":
        return import_transposed(ctx, node)
    x = _conv.image_input(ctx, node)
    w = ctx.const(node.input[1], node).astype(np.float32)
    where = f"node {label(node)} (Conv)"
    channels = x.frame_shape[0]
    groups = int(attrs(node).get("group", 1))
    if w.ndim != 4:
        raise McuqError(f"{where} has weights of shape {list(w.shape)}; mcuq supports 2-D "
                        "convolutions (4-D weights)")
    out_channels = w.shape[0]
    bias = np.zeros(out_channels, np.float32)
    if len(node.input) > 2 and node.input[2]:
        bias = ctx.const(node.input[2], node).astype(np.float32).reshape(-1)
    g = _conv.window_attrs(node, x.frame_shape, w.shape[2:])
    if groups == 1 and w.shape[1] == channels:
        out = ctx.add_layer(KIND, node, [x.tensor], {"weight": w, "bias": bias}, _conv.flat(g))
    elif groups == channels == out_channels and w.shape[1] == 1:
        out = ctx.add_layer("depthwise_conv2d", node, [x.tensor],
                            {"weight": w[:, 0], "bias": bias}, _conv.flat(g))
    else:
        raise McuqError(f"{where} has {groups} groups over {channels} input and {out_channels} "
                        f"output channels (weights {list(w.shape)}); mcuq supports groups = 1 "
                        "and depthwise convolutions (groups = channels = output channels)")
    return [x.with_frame_shape(out, ctx.tensors[out].shape)]


def import_transposed(ctx, node) -> list:
    """ConvTranspose as the convolution it equals: the input spread out to `stride` pixels
    apart with zeros between (and a zero border of k - 1 - pad, plus output_padding at the
    bottom and right; k the kernel's span with dilation) by a pad layer, then a stride-1
    convolution (of the same dilation) with the kernel flipped and its input and output
    channels swapped:
        y[co, oy, ox] = b[co] + sum_{ci, ky, kx} W[ci, co, kh-1-ky, kw-1-kx] z[ci, oy+ky, ox+kx]
    (z the spread image). The zeros cost stride^2 more MACs than a direct kernel; every
    value is exact (a zero is the zero point in int8, +0 in fp16)."""
    x = _conv.image_input(ctx, node)
    a = attrs(node)
    where = f"node {label(node)} (ConvTranspose)"
    w = ctx.const(node.input[1], node).astype(np.float32)
    channels, h, width = x.frame_shape
    groups = int(a.get("group", 1))
    if w.ndim != 4 or w.shape[0] != channels:
        raise McuqError(f"{where} has weights of shape {list(w.shape)}; mcuq supports 2-D "
                        f"transposed convolutions of the {channels} input channels "
                        "(weights (in, out / groups, kh, kw))")
    kernel = [int(k) for k in a.get("kernel_shape", w.shape[2:])]
    if kernel != list(w.shape[2:]):
        raise McuqError(f"{where} has kernel_shape {kernel}, but weights of shape {list(w.shape)}")
    dilation = [int(d) for d in a.get("dilations", [1, 1])]
    if len(dilation) != 2 or min(dilation) < 1:
        raise McuqError(f"{where} has dilations {dilation}; mcuq needs two of at least 1")
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    stride = [int(v) for v in a.get("strides", [1, 1])]
    extra = [int(v) for v in a.get("output_padding", [0, 0])]
    if len(stride) != 2 or min(stride) < 1 or len(extra) != 2 or min(extra) < 0:
        raise McuqError(f"{where} has strides {stride} and output_padding {extra}; mcuq needs "
                        "two strides of at least 1 and two non-negative output paddings")
    auto_pad = a.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise McuqError(f"{where} has auto_pad {auto_pad!r}; mcuq supports NOTSET, VALID, "
                        "SAME_UPPER and SAME_LOWER")
    sizes = (h, width)
    natural = [stride[i] * (sizes[i] - 1) + extra[i] + span[i] for i in range(2)]
    if "output_shape" in a or auto_pad.startswith("SAME"):
        want = [int(v) for v in a["output_shape"][-2:]] if "output_shape" in a else [
            sizes[i] * stride[i] for i in range(2)]
        total = [natural[i] - want[i] for i in range(2)]
        small = [t // 2 for t in total]
        begin, end = ((small, [t - s for t, s in zip(total, small)]) if auto_pad == "SAME_UPPER"
                      else ([t - s for t, s in zip(total, small)], small))
    else:
        p = [int(v) for v in a.get("pads", [0, 0, 0, 0])] if auto_pad == "NOTSET" else [0] * 4
        if len(p) != 4:
            raise McuqError(f"{where} has pads {p}; mcuq needs four")
        begin, end = p[:2], p[2:]
    border = [span[i] - 1 - begin[i] for i in range(2)] + [
        span[i] - 1 - end[i] + extra[i] for i in range(2)]
    if min(border) < 0:
        raise McuqError(f"{where} crops its output by more than the kernel reaches (pads "
                        f"{begin + end}, kernel {kernel}); mcuq supports pads up to kernel - 1")
    spread = ctx.add_layer("pad", node, [x.tensor], attrs_={
        "pad_top": border[0], "pad_left": border[1], "pad_bottom": border[2],
        "pad_right": border[3], "stride_h": stride[0], "stride_w": stride[1], "value": 0.0})
    flipped = w[:, :, ::-1, ::-1]
    out_channels = w.shape[1] * groups
    bias = np.zeros(out_channels, np.float32)
    if len(node.input) > 2 and node.input[2]:
        bias = ctx.const(node.input[2], node).astype(np.float32).reshape(-1)
    geometry = _conv.flat({"kernel": kernel, "stride": [1, 1], "pads": [0, 0, 0, 0],
                           "dilation": dilation})
    if groups == 1:
        weight = np.ascontiguousarray(flipped.transpose(1, 0, 2, 3))
        out = ctx.add_layer(KIND, node, [spread], {"weight": weight, "bias": bias}, geometry)
    elif groups == channels and w.shape[1] == 1:
        out = ctx.add_layer("depthwise_conv2d", node, [spread],
                            {"weight": np.ascontiguousarray(flipped[:, 0]), "bias": bias}, geometry)
    else:
        raise McuqError(f"{where} has {groups} groups over {channels} input and {out_channels} "
                        f"output channels (weights {list(w.shape)}); mcuq supports groups = 1 "
                        "and depthwise transposed convolutions (groups = channels)")
    return [x.with_frame_shape(out, ctx.tensors[out].shape)]


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Conv with the dequantized weights ([out][ky][kx][ci] back to
    [out][ci][ky][kx]), then the fused clamp."""
    p = qlayer.params
    g = _conv.window_of(p)
    weight = outlier_list.codes(qlayer.arrays).reshape(-1, g["kernel"][0], g["kernel"][1],
                                                       p["in_channels"])
    w, bias = b.weights(qlayer, weight.transpose(0, 3, 1, 2))
    y = b.node("Conv", [xs[0], w, bias], kernel_shape=g["kernel"], strides=g["stride"],
               pads=[g["pads"][0], g["pads"][1], g["pads"][2], g["pads"][3]])
    return b.activation(y, p)


def output_shape(layer: Layer, shapes):
    return (layer.weights["weight"].shape[0], *_conv.out_size(shapes[0], _conv.window_of(layer.attrs)))


def fold_affine(layer: Layer, scale: np.ndarray, shift: np.ndarray) -> bool:
    """y' = scale y + shift per output channel (a BatchNorm after it)."""
    if "activation" in layer.attrs:
        return False
    w, b = layer.weights["weight"].astype(np.float64), layer.weights["bias"].astype(np.float64)
    layer.weights["weight"] = (w * scale.reshape((-1,) + (1,) * (w.ndim - 1))).astype(np.float32)
    layer.weights["bias"] = (b * scale + shift).astype(np.float32)
    return True


def fold_pad(layer: Layer, border: dict) -> bool:
    """A zero border before it joins its padding (padding taps are zeros)."""
    for key in ("pad_top", "pad_left", "pad_bottom", "pad_right"):
        layer.attrs[key] += int(border[key])
    return True


def fuse_clip(layer: Layer, lo: float | None, hi: float | None) -> bool:
    return activation.fuse(layer, lo, hi)

# cross-layer equalization (mcuq.passes.equalize): its weight's channels, both sides
out_channels, scale_out_channels = _equalize.outputs_of, _equalize.scale_outputs
in_channels, scale_in_channels = _equalize.dense_inputs_of, _equalize.scale_dense_inputs


# -- re-parameterization (mcuq.passes.reparameterize) --------------------------------
def branch_kernel(layer: Layer) -> tuple | None:
    """(weight [out][in][k][k], or [c][k][k] for a depthwise one, bias, stride) of a
    convolution that can be summed with others over the same input: a square odd kernel
    padded by k // 2 on every side (so that window centres align whatever k), no fused
    activation. None otherwise."""
    g = _conv.window_of(layer.attrs)
    k = g["kernel"][0]
    if "activation" in layer.attrs or g["kernel"] != [k, k] or k % 2 == 0 or \
            g["pads"] != [k // 2] * 4 or g["dilation"] != [1, 1]:
        return None
    return (layer.weights["weight"].astype(np.float64), layer.weights["bias"].astype(np.float64),
            tuple(g["stride"]))


def identity_kernel(scale: np.ndarray, shift: np.ndarray) -> tuple:
    """The 1x1 kernel of y[c] = scale[c] x[c] + shift[c] (RepVGG's BatchNorm'd identity)."""
    channels = scale.shape[0]
    weight = np.zeros((channels, channels, 1, 1))
    weight[np.arange(channels), np.arange(channels), 0, 0] = scale
    return weight, np.asarray(shift, np.float64), (1, 1)


def merged_kernel(kernels) -> tuple[np.ndarray, np.ndarray, dict]:
    """The one convolution that computes the sum of `kernels` (same stride, same output
    channels; dense or depthwise): each kernel zero-padded to the largest size, centred,
    then summed."""
    size = max(w.shape[-1] for w, _, _ in kernels)
    weight = np.zeros(kernels[0][0].shape[:-2] + (size, size))
    bias = np.zeros(weight.shape[0])
    for w, b, _ in kernels:
        m = (size - w.shape[-1]) // 2
        weight[..., m:m + w.shape[-1], m:m + w.shape[-1]] += w
        bias += b
    window = {"kernel": [size, size], "stride": list(kernels[0][2]), "pads": [size // 2] * 4}
    return weight.astype(np.float32), bias.astype(np.float32), _conv.flat(window)


def matrix(weight: np.ndarray) -> np.ndarray:
    """[out][ci][ky][kx] -> [out][ky * kx * ci]: one row per output channel, taps in
    column order."""
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1).reshape(weight.shape[0], -1))


# -- float and quantized -----------------------------------------------------
def run_float(layer: Layer, xs, state) -> np.ndarray:
    g = _conv.window_of(layer.attrs)
    x = xs[0]
    cols = _conv.columns(x, g, 0.0)
    y = activation.run_float(cols @ matrix(layer.weights["weight"]).T + layer.weights["bias"],
                             layer.attrs)
    return _conv.to_image(y, x.shape[0], _conv.out_size(x.shape[1:], g)).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    if precision == "int8" and layer.attrs.get("cfws") and op("conv2d_cfws").splits(layer):
        return op("conv2d_cfws").quantize(layer, qins, stats, precision)
    weight = matrix(layer.weights["weight"])
    return _conv.quantize_rows(layer, qin, stats, precision, weight,
                               out_channels=int(weight.shape[0]))


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    a, p = qlayer.arrays, qlayer.params
    x = xs[0]
    g = _conv.window_of(p)
    if p["precision"] == "fp16":
        cols = _conv.columns(np.asarray(x, np.float16), g, np.float16(0.0))
        y = _matvec.run_fp16(cols, a["weight"], a["bias"], p)
    else:
        cols = _conv.columns(x, g, np.int8(p["in_zero_point"]))
        y = _matvec.run_int8(cols, outlier_list.codes(a), a["bias"], a["mult"], a["shift"],
                             p["out_zero_point"], p["act_min"], p["act_max"])
    return _conv.to_image(y, x.shape[0], (p["out_h"], p["out_w"]))


# -- device ------------------------------------------------------------------
def column_length(p: dict) -> int:
    return p["kernel_h"] * p["kernel_w"] * p["in_channels"]


def in_place(p: dict) -> bool:
    """A 1x1 convolution without padding reads each input pixel as its column."""
    return (p["kernel_h"], p["kernel_w"], p["pad_top"], p["pad_left"], p["pad_bottom"],
            p["pad_right"]) == (1, 1, 0, 0, 0, 0)


def macs(qlayer: QLayer) -> int:
    p = qlayer.params
    return p["out_h"] * p["out_w"] * p["out_channels"] * column_length(p)


def c_scratch(qlayer: QLayer, isa: str) -> list:
    """Im2col columns per core: two for int8 (the kernel's pixel pair), one for fp16; none
    when the input is read in place."""
    p = qlayer.params
    fp16 = p["precision"] == "fp16"
    if in_place(p):
        return [("column", "float16" if fp16 else "int8", 0)]
    k = column_length(p)
    if fp16:
        return [("column", "float16", MAX_CORES * (-(-k // 4) * 4))]
    # MCUQ_COLUMN_SPAN: to whole words, with 3 bytes of slack
    return [("column", "int8", 2 * MAX_CORES * ((k + 7) & ~3))]


def tap_offsets(p: dict) -> np.ndarray | None:
    """The tap table of an int8 map of fewer than 2 MAX_CORES output pixels, where the
    cores may gather every column together (fewer pixel pairs than cores; the kernel's
    shared gathering): for each output pixel and window tap in column order, the input
    byte of the tap's in_channels values (HWC), or -1 for a padding tap. Worked out here
    so that no core steps through window positions at run time."""
    if p["precision"] != "int8" or in_place(p) or p["out_h"] * p["out_w"] >= 2 * MAX_CORES:
        return None
    pixels = _conv.window_pixels(p)
    return np.where(pixels >= 0, pixels * p["in_channels"], -1).astype(np.int32).reshape(-1)


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    arrays = dict(qlayer.arrays)
    arrays["weight"] = layouts.arrange(isa, "matvec", arrays["weight"])
    taps = tap_offsets(qlayer.params)
    if taps is not None:
        arrays["taps"] = taps
    return arrays


def c_values(qlayer: QLayer) -> dict:
    p = qlayer.params
    return {**activation.c_values(p), "column_length": column_length(p),
            "in_place": int(in_place(p)),
            "requant_zp8": _matvec.requant_zp8(p, qlayer.arrays.get("shift"))}

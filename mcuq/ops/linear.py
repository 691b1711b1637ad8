"""Linear (fully connected) layer, optionally with a fused ReLU (mcuq.passes).

float:  y = W x + b            (y = max(y, 0) with a fused ReLU)
int8, fp16: the matvec core of mcuq/ops/_matvec.py (act_min = zp_y with a fused ReLU).
C kernels: mcuq_linear_s8 (firmware/kernels/<isa>/linear_s8.c), mcuq_linear_f16 (linear_f16.c).
Weight layout: the ISA's "matvec" layout (rv32: output channels in groups of four, interleaved).
ONNX: MatMul (its bias Add folds in through add.py), Gemm.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq import outliers as outlier_list
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import Act, attrs, is_bias, label
from mcuq.ops import _activation as activation
from mcuq.ops import _equalize
from mcuq.ops import _matvec
from mcuq.ir import Layer
from mcuq import layouts
from mcuq.qgraph import QLayer, QTensor

KIND = "linear"
ONNX_TYPES = ("MatMul", "Gemm")
WEIGHTS = ("weight", "outlier_value")  # the dense codes and the outliers kept aside
OUTLIERS = True  # --weight-outliers: the matvec core's side list


# -- import ------------------------------------------------------------------
def import_onnx(ctx, node) -> list:
    x = ctx.act(node.input[0], node)
    if node.op_type == "MatMul":
        w = ctx.const(node.input[1], node)
        if w.ndim != 2:
            raise McuqError(f"node {label(node)} (MatMul) needs 2-D weights, got {w.shape}")
        weight = np.ascontiguousarray(w.T.astype(np.float32))
        bias, has_bias = np.zeros(w.shape[1], np.float32), False
    else:
        a = attrs(node)
        if a.get("transA", 0):
            if len(x.shape) != 2:
                raise McuqError(f"node {label(node)} (Gemm) with transA=1 needs a 2-D input, "
                                f"got shape {list(x.shape)}")
            x = Act(x.tensor, x.roles[::-1], x.shape[::-1])  # A' is (items, features)
        w = ctx.const(node.input[1], node).astype(np.float32) * a.get("alpha", 1.0)
        weight = np.ascontiguousarray(w if a.get("transB", 0) else w.T)
        bias, has_bias = np.zeros(weight.shape[0], np.float32), True
        if len(node.input) > 2 and node.input[2]:
            c = ctx.const(node.input[2], node)
            if not is_bias(c, weight.shape[0]):
                raise McuqError(f"node {label(node)} (Gemm) has a bias C of shape "
                                f"{list(c.shape)} that differs between rows; mcuq needs one "
                                f"bias per output feature ({weight.shape[0]})")
            bias = bias + np.broadcast_to(c.reshape(-1), (weight.shape[0],)) * a.get("beta", 1.0)
    n_out, n_in = weight.shape
    if x.roles[-1] != "F" or x.frame_shape != (n_in,):
        raise McuqError(f"node {label(node)} ({node.op_type}) contracts axis of shape "
                        f"{list(x.shape)} with weights of input size {n_in}; mcuq supports "
                        "matrix products over the feature axis of a vector only")
    out = ctx.add_layer(KIND, node, [x.tensor], {"weight": weight, "bias": bias.astype(np.float32)},
                        {"has_bias": has_bias})
    return [x.with_frame_shape(out, (n_out,))]


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Gemm with the dequantized weights, then the fused clamp."""
    w, bias = b.weights(qlayer, outlier_list.codes(qlayer.arrays))
    return b.activation(b.node("Gemm", [xs[0], w, bias], transB=1), qlayer.params)


def absorb_bias(ctx, node, x: Act, c: np.ndarray) -> bool:
    """Fold Add(x, c) into the bias of the MatMul that produced x, when it has none."""
    layer = ctx.layers[-1] if ctx.layers else None
    if not (layer is not None and layer.kind == KIND and layer.outputs[0] == x.tensor
            and not layer.attrs["has_bias"] and len(x.frame_shape) == 1
            and is_bias(c, x.features)):
        return False
    bias = np.broadcast_to(c.reshape(-1), (x.features,))
    layer.weights["bias"] = (layer.weights["bias"] + bias).astype(np.float32)
    layer.attrs["has_bias"] = True
    layer.source += ", " + label(node)
    return True


def fold_affine(layer: Layer, scale: np.ndarray, shift: np.ndarray) -> bool:
    """y' = scale y + shift per output channel (a BatchNorm after it): W' = scale W,
    b' = scale b + shift. Not after a fused activation."""
    if "activation" in layer.attrs:
        return False
    w, b = layer.weights["weight"].astype(np.float64), layer.weights["bias"].astype(np.float64)
    layer.weights["weight"] = (w * scale[:, None]).astype(np.float32)
    layer.weights["bias"] = (b * scale + shift).astype(np.float32)
    layer.attrs["has_bias"] = True
    return True


def fuse_clip(layer: Layer, lo: float | None, hi: float | None) -> bool:
    """A ReLU or Clip after it, inside the kernel: the int8 output range is the clamp's,
    one requantization (mcuq/ops/_activation.py)."""
    return activation.fuse(layer, lo, hi)


def output_shape(layer: Layer, shapes):
    return (layer.weights["weight"].shape[0],)

# cross-layer equalization (mcuq.passes.equalize): its weight's channels, both sides
out_channels, scale_out_channels = _equalize.outputs_of, _equalize.scale_outputs
in_channels, scale_in_channels = _equalize.dense_inputs_of, _equalize.scale_dense_inputs


# -- float and quantized -----------------------------------------------------
def run_float(layer: Layer, xs, state) -> np.ndarray:
    y = xs[0] @ layer.weights["weight"].T + layer.weights["bias"]
    return activation.run_float(y, layer.attrs).astype(np.float32)


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    act = activation.params(layer.attrs)
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    if precision == "fp16":
        weight = fp16.to_fp16(layer.weights["weight"], f"layer {layer.name}")
        bias = fp16.to_fp16(layer.weights["bias"], f"layer {layer.name}")
        qlayer = QLayer(arrays={"weight": weight, "bias": bias},
                        params={"precision": "fp16", "in_features": int(weight.shape[1]),
                                "out_features": int(weight.shape[0]), **act}, **base)
        return qlayer, fp16.tensor((weight.shape[0],))
    arrays, params, out_scale = _matvec.quantize_int8(
        layer.weights["weight"], layer.weights["bias"], qin.scale, qin.zero_point, stats, act,
        f"layer {layer.name}", layer.attrs.get("weight_bits", 8),
        layer.attrs.get("weight_range", "max"), layer.attrs.get("weight_outliers", 0.0))
    rows, k = arrays["weight"].shape
    qout = QTensor(shape=(rows,), scale=out_scale, zero_point=params["out_zero_point"])
    qlayer = QLayer(arrays=arrays, params={"precision": "int8", "in_features": int(k),
                                           "out_features": int(rows), **params, **act},
                    **base)
    return qlayer, qout


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    a, p = qlayer.arrays, qlayer.params
    if p["precision"] == "fp16":
        return _matvec.run_fp16(xs[0], a["weight"], a["bias"], p)
    return _matvec.run_int8(xs[0], outlier_list.codes(a), a["bias"], a["mult"], a["shift"],
                            p["out_zero_point"], p["act_min"], p["act_max"])


# -- device ------------------------------------------------------------------
def macs(qlayer: QLayer) -> int:
    return qlayer.params["in_features"] * qlayer.params["out_features"]


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    arrays = dict(qlayer.arrays)
    arrays["weight"] = layouts.arrange(isa, "matvec", arrays["weight"])
    return arrays


def c_values(qlayer: QLayer) -> dict:
    return {**activation.c_values(qlayer.params),
            "requant_zp8": _matvec.requant_zp8(qlayer.params, qlayer.arrays.get("shift"))}


def c_stream(qlayer: QLayer, arrays: dict):
    """int8 without outliers: a unit is a group of four output channels (its weights in
    the ISA's layout and its four biases and requantizations)."""
    if qlayer.params["precision"] != "int8" or "outlier_count" in arrays:
        return None
    weight = arrays["weight"]
    group = layouts.LINEAR_GROUP
    return weight.shape[0], {"weight": weight[0].size, "bias": group, "mult": group,
                             "shift": group}

"""Element-wise functions of one tensor with constant parameters: Clip (ReLU6), LeakyRelu,
HardSigmoid, HardSwish, and Mul/Div/Add/Sub of the tensor and a scalar constant.

float (a and b are the layer's constants, per function):
  clip          y = min(max(x, a), b)       (a or b absent: no bound on that side; a > b
                                             gives b everywhere, as ONNX says)
  leaky_relu    y = x < 0 ? a x : x
  hard_sigmoid  y = max(0, min(1, a x + b))
  hard_swish    y = x max(0, min(1, a x + b)),   a = 1/6, b = 1/2 (ONNX HardSwish)
  mul           y = a x          div  y = x / a
  add           y = x + b        sub_from  y = b - x
int8:  y = table[xq + 128], 256 entries computed offline from the input's quantization
       and the output's calibrated one (as for Sigmoid, mcuq.ops._lookup):
       table[q + 128] = clamp(round(f(s_x (q - zp_x)) / s_y) + zp_y, -128, 127)
fp16:  the float formula with a and b rounded to fp16 and every operation rounded to fp16
       on its own, in this order:
  clip          t = x < a ? a : x; y = t > b ? b : t
  leaky_relu    y = x < 0 ? fp16(x a) : x
  hard_sigmoid  t = fp16(fp16(x a) + b); y = t < 0 ? 0 : (t > 1 ? 1 : t)
  hard_swish    t as hard_sigmoid; y = fp16(x t)
  mul  fp16(x a)    div  fp16(x / a)    add  fp16(x + b)    sub_from  fp16(b - x)
       (a NaN stays a NaN, stored as the canonical NaN)
C kernels: mcuq_pointwise_s8 (firmware/kernels/<isa>/pointwise_s8.c), mcuq_pointwise_f16
(pointwise_f16.c); the function is an index into FUNCTIONS, the same order as the C enum.
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import attrs, label
from mcuq.ops import _lookup as lookup
from mcuq.ops import mul

KIND = "pointwise"
ONNX_TYPES = ("Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Mul", "Div", "Sub")
# the C enum mcuq_pointwise_function (firmware/kernels/mcuq_pointwise.h), in this order
FUNCTIONS = ("clip", "leaky_relu", "hard_sigmoid", "hard_swish", "mul", "div", "add",
             "sub_from")
F16 = np.float16


def import_onnx(ctx, node) -> list:
    a = attrs(node)
    kind = node.op_type
    if kind == "Clip":
        lo, hi = a.get("min"), a.get("max")  # opset < 11: attributes; since: inputs
        for i, name in ((1, "lo"), (2, "hi")):
            if len(node.input) > i and node.input[i]:
                value = ctx.const(node.input[i], node).reshape(-1)
                if value.size != 1:
                    raise McuqError(f"node {label(node)} (Clip): its {'min' if i == 1 else 'max'}"
                                    f" has {value.size} values; ONNX takes one")
                lo, hi = (float(value[0]), hi) if i == 1 else (lo, float(value[0]))
        return make(ctx, node, node.input[0], "clip", lo, hi)
    if kind == "LeakyRelu":
        return make(ctx, node, node.input[0], "leaky_relu", float(a.get("alpha", 0.01)), None)
    if kind == "HardSigmoid":
        return make(ctx, node, node.input[0], "hard_sigmoid", float(a.get("alpha", 0.2)),
                    float(a.get("beta", 0.5)))
    if kind == "HardSwish":
        return make(ctx, node, node.input[0], "hard_swish", 1.0 / 6.0, 0.5)
    return import_scalar(ctx, node)


def import_scalar(ctx, node) -> list:
    """Mul, Div, Add or Sub of an activation and a scalar constant (either side where the
    op commutes; Div only as activation / constant), or of a per-channel constant (a scale
    layer: scale_layer). Add of a Linear's output and a vector is that layer's bias
    (mcuq.ops.linear), handled before this."""
    values = [ctx.value(name) for name in node.input[:2]]
    acts = [i for i, v in enumerate(values) if not isinstance(v, np.ndarray)]
    if len(acts) == 2 and node.op_type == "Mul":
        return mul.import_product(ctx, node)
    if len(acts) != 1:
        return ctx.refuse(f"op {node.op_type} of two activations (node {label(node)}); mcuq "
                          "supports Add of two tensors of one shape, Mul of two tensors, and "
                          "Mul, Div, Add, Sub of a tensor and a constant")
    x_name = node.input[acts[0]]
    c = values[1 - acts[0]]
    first = acts[0] == 0
    if c.size != 1:
        per_channel = channel_vector(ctx.act(x_name, node), c)
        if per_channel is None and node.op_type in ("Mul", "Div"):
            return mul.import_product(ctx, node)
        if per_channel is None and (node.op_type == "Add" or node.op_type == "Sub" and first):
            from mcuq.ops import add  # add reaches this module first
            done = add.import_constant(ctx, node, ctx.act(x_name, node),
                                       c if node.op_type == "Add" else -np.asarray(c, np.float64))
            if done is not None:
                return done
        if per_channel is None:
            return ctx.refuse(f"op {node.op_type} of an activation of shape "
                              f"{list(ctx.act(x_name, node).shape)} and a constant of shape "
                              f"{list(c.shape)} (node {label(node)}); mcuq supports scalar and "
                              "per-channel (per-feature) constants")
        return scale_layer(ctx, node, x_name, per_channel, first)
    x = ctx.act(x_name, node)
    value = float(np.asarray(c, np.float64).reshape(-1)[0])
    function, a, b = {"Mul": ("mul", value, None), "Div": ("div", value, None),
                      "Add": ("add", None, value),
                      "Sub": ("add", None, -value) if first else ("sub_from", None, value)
                      }[node.op_type]
    # an affine map first (folded into the layer before it when there is one), a
    # pointwise layer where it stays (mcuq.passes.fold_batchnorm)
    channels = x.shape[x.roles.index("F")]
    return scale_layer(ctx, node, x_name, np.full(channels, value), first,
                       as_pointwise={"function": function, "a": a, "b": b})


def channel_vector(x, c: np.ndarray) -> np.ndarray | None:
    """A constant that varies only along x's channel (or feature) axis, as a vector of its
    values per channel; None when it is not one."""
    c = np.asarray(c, np.float64)
    if c.ndim > len(x.shape):
        return None
    shape = (1,) * (len(x.shape) - c.ndim) + c.shape
    axis = x.roles.index("F")  # a vector's features, an image's channels
    if any(s != 1 for i, s in enumerate(shape) if i != axis) or shape[axis] not in (1, x.shape[axis]):
        return None
    return np.broadcast_to(c.reshape(-1), (x.shape[axis],)).astype(np.float64)


def scale_layer(ctx, node, x_name: str, c: np.ndarray, first: bool,
                as_pointwise: dict | None = None) -> list:
    """Mul, Div, Add or Sub by a per-channel constant: a per-channel affine map
    y = scale x + shift, the graph-only kind a BatchNorm becomes (mcuq.ops.batchnorm),
    folded into the Linear or convolution before it. A scalar one carries the pointwise
    layer it becomes where nothing absorbs it (`as_pointwise`: function, a, b)."""
    ones, zeros = np.ones_like(c), np.zeros_like(c)
    if node.op_type == "Div" and not first:
        return ctx.refuse(f"op Div of a constant by an activation (node {label(node)}); mcuq "
                          "divides a tensor by a constant only")
    if node.op_type == "Div" and np.any(c == 0):
        raise McuqError(f"node {label(node)} (Div) divides by a constant that holds 0")
    scale, shift = {"Mul": (c, zeros), "Div": (1.0 / c, zeros), "Add": (ones, c),
                    "Sub": (ones, -c) if first else (-ones, c)}[node.op_type]
    x = ctx.act(x_name, node)
    out = ctx.add_layer("batchnorm", node, [x.tensor], {"scale": scale.astype(np.float32),
                                                        "shift": shift.astype(np.float32)},
                        {"pointwise": as_pointwise} if as_pointwise else None)
    return [x.with_frame_shape(out, x.frame_shape)]


def make(ctx, node, x_name: str, function: str, a, b) -> list:
    x = ctx.act(x_name, node)
    out = ctx.add_layer(KIND, node, [x.tensor], attrs_={"function": function, "a": a, "b": b})
    return [x.with_frame_shape(out, x.frame_shape)]


def function_of(attrs_: dict):
    """The float function of a layer, on float64 values."""
    f, a, b = attrs_["function"], attrs_["a"], attrs_["b"]
    if f == "clip":
        lo = -np.inf if a is None else a
        hi = np.inf if b is None else b
        return lambda x: np.minimum(np.maximum(x, lo), hi)
    if f == "leaky_relu":
        return lambda x: np.where(x < 0, a * x, x)
    if f == "hard_sigmoid":
        return lambda x: np.clip(a * x + b, 0.0, 1.0)
    if f == "hard_swish":
        return lambda x: x * np.clip(a * x + b, 0.0, 1.0)
    return {"mul": lambda x: a * x, "div": lambda x: x / a, "add": lambda x: x + b,
            "sub_from": lambda x: b - x}[f]


def run_float(layer, xs, state) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return function_of(layer.attrs)(xs[0].astype(np.float64)).astype(np.float32)


def quantize(layer, qins, stats, precision):
    out_qparams = fx.activation_qparams(stats["min"], stats["max"])
    qlayer, qout = lookup.quantize(layer, qins[0], precision, function_of(layer.attrs),
                                   out_qparams)
    qlayer.params.update(function=layer.attrs["function"], a=layer.attrs["a"],
                         b=layer.attrs["b"])
    return qlayer, qout


def onnx_nodes(qlayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): the exact function as ONNX ops (int8: instead of mcuq's table)."""
    p = qlayer.params
    f, a, c = p["function"], p["a"], p["b"]
    x = xs[0]
    if f == "clip":
        lo = b.const("lo", np.float32(-np.inf if a is None else a))
        hi = b.const("hi", np.float32(np.inf if c is None else c))
        return b.node("Clip", [x, lo, hi])
    if f == "leaky_relu":
        return b.node("LeakyRelu", [x], alpha=float(a))
    if f in ("hard_sigmoid", "hard_swish"):
        gate = b.node("HardSigmoid", [x], alpha=float(a), beta=float(c))
        return gate if f == "hard_sigmoid" else b.node("Mul", [x, gate])
    value = b.const("c", np.float32(a if f in ("mul", "div") else c))
    return {"mul": lambda: b.node("Mul", [x, value]), "div": lambda: b.node("Div", [x, value]),
            "add": lambda: b.node("Add", [x, value]), "sub_from": lambda: b.node("Sub", [value, x])}[f]()


def constants(params: dict) -> tuple[F16, F16]:
    """a and b in fp16; an absent one is the clip's open bound (-inf, inf) or 0."""
    clip = params["function"] == "clip"
    a, b = params["a"], params["b"]
    return (F16((-np.inf if clip else 0.0) if a is None else a),
            F16((np.inf if clip else 0.0) if b is None else b))


def fp16_function(params: dict, x: np.ndarray) -> np.ndarray:
    """The fp16 kernel's arithmetic (see the module docstring), rounding as the C does."""
    f = params["function"]
    x = np.asarray(x, F16)
    a, b = constants(params)
    zero, one = F16(0), F16(1)
    with np.errstate(over="ignore", invalid="ignore"):
        if f == "clip":
            t = np.where(x < a, a, x)
            y = np.where(t > b, b, t)
        elif f == "leaky_relu":
            y = np.where(x < zero, x * a, x)
        elif f in ("hard_sigmoid", "hard_swish"):
            t = (x * a).astype(F16) + b
            t = np.where(t < zero, zero, np.where(t > one, one, t)).astype(F16)
            y = t if f == "hard_sigmoid" else x * t
        else:
            y = {"mul": lambda: x * a, "div": lambda: x / a, "add": lambda: x + b,
                 "sub_from": lambda: b - x}[f]()
    return fp16.canonical(np.asarray(y, F16))


def run_device(qlayer, xs, state) -> np.ndarray:
    return lookup.run_device(qlayer, xs[0], lambda x: fp16_function(qlayer.params, x))


def c_values(qlayer) -> dict:
    """The function's index, and a and b as the bits of their fp16 values (exact, and
    infinities included)."""
    p = qlayer.params
    f = p.get("function")
    if f not in FUNCTIONS:
        raise McuqError(f"layer {qlayer.name}: unknown pointwise function {f!r}; export again")
    a, b = constants(p)
    return {"function": FUNCTIONS.index(f), "a_bits": fp16.bits(a), "b_bits": fp16.bits(b)}

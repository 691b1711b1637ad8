"""What GRU and LSTM share: their ONNX import, quantized gate pre-activations, MACs,
weight layout.

float:  gx = W_ih x + b_ih,  gh = W_hh h + b_hh          (one row per gate unit)
int8:   acc_x = W_ih_q x_q + b_ih_q,  acc_h = W_hh_q h_q + b_hh_q    (int32)
        gx = requant(acc_x, M_ih),  gh = requant(acc_h, M_hh)     in Q12 (int32)
        with M_ih[r] ~ s_x s_ih[r] 2^12,  M_hh[r] ~ s_h s_hh[r] 2^12, and the
        input zero point folded into b_ih_q (h is symmetric: zero point 0).
The state h is int8 with a symmetric scale calibrated from the layer output.
fp16:   gx = b_ih, then gx += fp16(W_ih[r, k] x[k]) for k in order (likewise gh), every
        operation rounded to fp16 (mcuq.fp16).
"""
from __future__ import annotations

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import Act, Unusable, attrs, label
from mcuq.ir import Layer
from mcuq import layouts
from mcuq.ops import _equalize, op
from mcuq.qgraph import QLayer, QTensor

GATES = {"gru": 3, "lstm": 4, "rnn": 1}
# ONNX gate order -> PyTorch gate order: GRU zrh -> rzn, LSTM iofc -> ifgo
ONNX_ORDER = {"gru": [1, 0, 2], "lstm": [0, 2, 3, 1], "rnn": [0]}
ACTIVATIONS = {"gru": ["sigmoid", "tanh"], "lstm": ["sigmoid", "tanh", "tanh"], "rnn": ["tanh"]}


def _direction(node, where: str) -> tuple[str, int]:
    direction = attrs(node).get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    if direction not in ("forward", "reverse", "bidirectional"):
        raise McuqError(f"{where}: direction '{direction}' is not forward, reverse or "
                        "bidirectional")
    return direction, 2 if direction == "bidirectional" else 1


def import_onnx(ctx, node, kind: str) -> list:
    """An ONNX GRU, LSTM or RNN node: one layer per direction, state kept inside the model
    (a reverse direction reads the sequence from its last frame: mcuq.schedule). Gates are
    reordered to PyTorch's order (GRU r, z, n; LSTM i, f, g, o). Y is the layers' outputs
    (a bidirectional node's two side by side); Y_h, the final state, is the forward
    layer's output after the last frame."""
    where = f"node {label(node)} ({node.op_type})"
    a = attrs(node)
    direction, dirs = _direction(node, where)
    if "activations" in a:
        given = [v.decode().lower() if isinstance(v, bytes) else str(v).lower()
                 for v in a["activations"]]
        if given != ACTIVATIONS[kind] * dirs:
            raise McuqError(f"{where}: activations {given} are not supported; mcuq's "
                            f"{node.op_type} uses {ACTIVATIONS[kind]} (per direction)")
    if "clip" in a or a.get("input_forget", 0) or "activation_alpha" in a or \
            "activation_beta" in a:
        raise McuqError(f"{where}: clip, input_forget and activation parameters are not "
                        "supported")
    if "hidden_size" in a:
        hidden = int(a["hidden_size"])
    else:  # optional in ONNX: R is (directions, gates * hidden, hidden)
        r = ctx.const(node.input[2], node)
        if r.ndim != 3:
            raise McuqError(f"{where}: R has shape {list(r.shape)}, not (directions, "
                            f"{GATES[kind]} * hidden, hidden), and hidden_size is not given")
        hidden = int(r.shape[-1])
    layout = a.get("layout", 0)
    x = ctx.act(node.input[0], node)
    batch_axis = 1 if layout == 0 else 0
    batch_role = x.roles[batch_axis] if len(x.roles) == 3 and x.roles[batch_axis] in "1N" else "1"
    want = ("T", batch_role, "F") if layout == 0 else (batch_role, "T", "F")
    if x.roles != want and len(x.roles) == 3 and all(
            r == w or (n == 1 and {r, w} <= {"T", "1"})
            for r, w, n in zip(x.roles, want, x.shape)):
        x = Act(x.tensor, want, x.shape)  # a time axis of extent 1 looks like a singleton
    if x.roles != want and len(x.shape) == 3 and x.shape[batch_axis] > 1:
        raise McuqError(f"{where}: its input holds a batch of {x.shape[batch_axis]} sequences "
                        f"(shape {list(x.shape)}, layout={layout}) that are not the model "
                        "input's batch; export the model with batch size 1")
    if x.roles != want:
        raise McuqError(f"{where}: input axes {x.roles} of shape {list(x.shape)} do not match "
                        f"layout={layout}; expected (time, batch, features) roles {want}")

    def opt(i):
        return node.input[i] if len(node.input) > i and node.input[i] else None

    if opt(4) is not None:
        lens = ctx.const(opt(4), node)
        if np.any(lens != x.shape[x.roles.index("T")]):
            raise McuqError(f"{where}: sequence_lens shorter than the sequence are not supported")
    for i, what in ((5, "initial_h"), (6, "initial_c")):
        if opt(i) is None:
            continue
        init = ctx.value(opt(i))
        if not isinstance(init, np.ndarray) or np.any(init != 0):
            raise McuqError(f"{where}: {what} must be zeros (a state passed in from outside "
                            "the model is not supported; mcuq keeps the state between frames)")

    gates = GATES[kind]
    features, batch = x.features, x.shape[batch_axis]
    want = {1: (dirs, gates * hidden, features), 2: (dirs, gates * hidden, hidden),
            3: (dirs, 2 * gates * hidden), 5: (dirs, batch, hidden), 6: (dirs, batch, hidden),
            7: (dirs, 3 * hidden)}
    for i, shape in want.items():
        if opt(i) is None:
            continue
        value = ctx.value(opt(i))
        got = tuple(np.shape(value)) if isinstance(value, np.ndarray) else None
        if got is not None and got != shape:
            what = {1: "W", 2: "R", 3: "B", 5: "initial_h", 6: "initial_c", 7: "P"}[i]
            hint = (" (is it an LSTM with a projection, proj_size? The exporter dropped it: "
                    "ONNX's LSTM has none)" if i in (2, 5, 6) and kind == "lstm" else "")
            raise McuqError(f"{where}: {what} has shape {list(got)}, but hidden_size={hidden}, "
                            f"{dirs} direction(s) and {features} input features need "
                            f"{list(shape)}{hint}")

    def reorder(m):
        blocks = np.split(np.asarray(m, np.float32), gates, axis=0)
        return np.ascontiguousarray(np.concatenate([blocks[k] for k in ONNX_ORDER[kind]], axis=0))

    w_all, r_all = ctx.const(node.input[1], node), ctx.const(node.input[2], node)
    b_all = ctx.const(opt(3), node) if opt(3) else np.zeros((dirs, 2 * gates * hidden), np.float32)
    outs = []
    for d in range(dirs):
        w, r, b = w_all[d], r_all[d], b_all[d]
        weights = {"w_ih": reorder(w), "w_hh": reorder(r),
                   "b_ih": reorder(b[: gates * hidden]), "b_hh": reorder(b[gates * hidden:])}
        if kind == "lstm" and opt(7) is not None:  # peepholes, ONNX order (i, o, f)
            p_i, p_o, p_f = np.split(np.asarray(ctx.const(opt(7), node)[d], np.float32), 3)
            weights["peephole"] = np.ascontiguousarray(np.stack([p_i, p_f, p_o]))  # (i, f, o)
        if weights["w_ih"].shape[1] != x.features:
            raise McuqError(f"{where}: weights expect {weights['w_ih'].shape[1]} input "
                            f"features, the input has {x.features}")
        attrs_ = {"hidden": hidden}
        if kind == "gru":  # 1: PyTorch's GRU; 0 (the ONNX default): Keras reset_after=False
            attrs_["linear_before_reset"] = int(a.get("linear_before_reset", 0))
        if direction == "reverse" or d == 1:
            attrs_["reverse"] = 1
        outs.append(ctx.add_layer(kind, node, [x.tensor], weights, attrs_))
    if dirs == 2:  # Y's (direction, hidden) frame: both outputs side by side, row-major
        both = ctx.add_layer("concat", node, outs, {}, {"axis": 0, "sources": "i0,i1"})
        out = ctx.add_layer("transpose", node, [both],
                            attrs_=op("transpose").attrs_of([0], (2, hidden)))
    else:
        out = outs[0]
    t = x.shape[x.roles.index("T")]
    dir_role = "F" if dirs == 2 else "1"
    if layout == 0:
        y = Act(out, ("T", dir_role, batch_role, "F"), (t, dirs, batch, hidden))
    else:
        y = Act(out, (batch_role, "T", dir_role, "F"), (batch, t, dirs, hidden))
    if direction != "forward":
        y_h = Unusable(f"is the final state of {where}, whose reverse direction ends at "
                       "the first frame; use the per-frame output Y instead")
    elif layout == 0:
        y_h = Act(out, ("1", batch_role, "F"), (1, batch, hidden), final=True)
    else:
        y_h = Act(out, (batch_role, "1", "F"), (batch, 1, hidden), final=True)
    y_c = Unusable(f"is the final cell state of {where}: mcuq keeps the cell state inside "
                   "the model; use the per-frame output Y or the final state Y_h")
    return [y, y_h, y_c]


def output_shape(layer: Layer, shapes):
    return (layer.attrs["hidden"],)


def macs(qlayer: QLayer) -> int:
    p = qlayer.params
    return GATES[qlayer.kind] * p["hidden"] * (p["in_features"] + p["hidden"])


# the int8 per-row values as the C kernels read them: one record per gate row, unit-major
# (the records of unit j's gates side by side), so that one pointer reaches them all at
# constant offsets (MCUQ_ROW_* in firmware/kernels/mcuq_recurrent.h)
ROW_FIELDS = ("b_ih", "b_hh", "mult_ih", "pre_ih", "post_ih", "mult_hh", "pre_hh", "post_hh")
# the quantized arrays the records are made from
ROW_SOURCES = ("b_ih", "b_hh", "mult_ih", "shift_ih", "mult_hh", "shift_hh")


def row_records(arrays: dict, gates: int) -> np.ndarray:
    """int32 [hidden][gates][fields]: each gate row's biases and requantization steps
    (fixedpoint.requant_steps, from the accumulator bound of its weights)."""
    fields = {"b_ih": arrays["b_ih"], "b_hh": arrays["b_hh"],
              "mult_ih": arrays["mult_ih"], "mult_hh": arrays["mult_hh"]}
    for side in ("ih", "hh"):
        bound = fx.accumulator_bound(arrays[f"w_{side}"], arrays[f"b_{side}"])
        fields[f"pre_{side}"], fields[f"post_{side}"] = fx.requant_steps(
            arrays[f"mult_{side}"], arrays[f"shift_{side}"], bound)
    table = np.stack([np.asarray(fields[f], np.int64) for f in ROW_FIELDS], axis=1)
    hidden = table.shape[0] // gates
    unit_major = table.reshape(gates, hidden, len(ROW_FIELDS)).transpose(1, 0, 2)
    return np.ascontiguousarray(unit_major).astype(np.int32)


def c_arrays(qlayer: QLayer, isa: str) -> dict:
    """Weights in the ISA's gate layout (rv32: the gate rows of a unit interleaved); int8
    per-row values as row records."""
    arrays = dict(qlayer.arrays)
    gates = GATES[qlayer.kind]
    if "mult_ih" in arrays:
        arrays = {key: a for key, a in arrays.items() if key not in ROW_SOURCES}
        arrays["rows"] = row_records(qlayer.arrays, gates)
    for key in ("w_ih", "w_hh"):
        arrays[key] = layouts.arrange(isa, "gates", arrays[key], gates=gates)
    return arrays


def c_stream(qlayer: QLayer, arrays: dict):
    """int8: a unit is a hidden unit, its gate rows of both weights and its row records."""
    if qlayer.params["precision"] != "int8":
        return None
    return arrays["w_ih"].shape[0], {key: arrays[key][0].size for key in ("w_ih", "w_hh", "rows")}


def layer_of(layer: Layer, arrays: dict, params: dict) -> QLayer:
    """The quantized layer; a reverse layer keeps `reverse` (mcuq.schedule)."""
    if layer.attrs.get("reverse"):
        params = {**params, "reverse": 1}
    return QLayer(kind=layer.kind, name=layer.name, inputs=list(layer.inputs),
                  outputs=list(layer.outputs), arrays=arrays, params=params, source=layer.source)


def quantize_gates(layer: Layer, qin: QTensor, h_scale: float) -> dict[str, np.ndarray]:
    w = layer.weights
    bits, rule = layer.attrs.get("weight_bits", 8), layer.attrs.get("weight_range", "max")
    w_ih, s_ih = fx.quantize_weights_per_channel(w["w_ih"], bits, rule)
    w_hh, s_hh = fx.quantize_weights_per_channel(w["w_hh"], bits, rule)
    b_ih = fx.quantize_bias(w["b_ih"], qin.scale * s_ih, f"layer {layer.name}")
    b_ih -= qin.zero_point * w_ih.astype(np.int64).sum(axis=1)
    b_hh = fx.quantize_bias(w["b_hh"], h_scale * s_hh, f"layer {layer.name}")
    fx.check_accumulator(w_ih, b_ih, f"layer {layer.name} (input weights)")
    fx.check_accumulator(w_hh, b_hh, f"layer {layer.name} (recurrent weights)")
    mult_ih, shift_ih = fx.quantize_multipliers(qin.scale * s_ih * 2.0**fx.Q_GATE)
    mult_hh, shift_hh = fx.quantize_multipliers(h_scale * s_hh * 2.0**fx.Q_GATE)
    return {"w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih.astype(np.int32),
            "b_hh": b_hh.astype(np.int32), "mult_ih": mult_ih, "shift_ih": shift_ih,
            "mult_hh": mult_hh, "shift_hh": shift_hh}


def int_gates(arrays: dict, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gx, gh) in Q12 for int8 x and h, shape (batch, gates * hidden)."""
    acc_x = x.astype(np.int64) @ arrays["w_ih"].astype(np.int64).T + arrays["b_ih"]
    acc_h = h.astype(np.int64) @ arrays["w_hh"].astype(np.int64).T + arrays["b_hh"]
    return (fx.requant(acc_x, arrays["mult_ih"], arrays["shift_ih"]),
            fx.requant(acc_h, arrays["mult_hh"], arrays["shift_hh"]))


def float_gates(layer: Layer, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = layer.weights
    return x @ w["w_ih"].T + w["b_ih"], h @ w["w_hh"].T + w["b_hh"]


def quantize_fp16(layer: Layer) -> dict[str, np.ndarray]:
    what = f"layer {layer.name}"
    return {key: fp16.to_fp16(layer.weights[key], what)
            for key in ("w_ih", "w_hh", "b_ih", "b_hh", "peephole") if key in layer.weights}


def fp16_gates(arrays: dict, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gx, gh) in fp16: matvecs that start from the bias and add products in order."""
    return (fp16.matvec(arrays["w_ih"], arrays["b_ih"], x),
            fp16.matvec(arrays["w_hh"], arrays["b_hh"], h))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gate_sum(gx, gh) -> np.ndarray:
    """gx + gh, saturated to int32 (the C code adds in int64, then saturates)."""
    return fx.saturate(gx + gh, fx.INT32_MIN, fx.INT32_MAX)


def output_qparams(stats: dict, size: int) -> QTensor:
    max_abs = max(abs(stats["min"]), abs(stats["max"]))
    return QTensor(shape=(size,), scale=fx.symmetric_scale(max_abs), zero_point=0)


def in_channels(layer: Layer) -> np.ndarray:
    """The input projection read per input feature (cross-layer equalization)."""
    return _equalize.inputs_of(layer, "w_ih")


def scale_in_channels(layer: Layer, s: np.ndarray) -> None:
    _equalize.scale_inputs(layer, "w_ih", s)


def h_state(qlayer: QLayer) -> list:
    """The one persistent C buffer of a GRU or RNN: h, between frames."""
    dtype = "float16" if qlayer.params["precision"] == "fp16" else "int8"
    return [("h", dtype, qlayer.params["hidden"])]


def init_h(qlayer: QLayer, batch: int) -> dict:
    dtype = np.float16 if qlayer.params["precision"] == "fp16" else np.int8
    return {"h": np.zeros((batch, qlayer.params["hidden"]), dtype)}

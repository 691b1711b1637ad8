"""An export as an ONNX QDQ model: the quantized graph in the form ONNX Runtime and the
usual viewers (Netron) read. Every int8 tensor is a QuantizeLinear / DequantizeLinear pair
with mcuq's scale and zero point; int8 weights are DequantizeLinear of mcuq's codes with
the per-channel scales mcuq requantizes with (s_w[n] = M[n] s_y / s_x, M[n] = mult[n]
2^-shift[n]), biases DequantizeLinear of mcuq's int32 (the input zero point taken out
again); each layer is the float ONNX op between them, so ONNX Runtime computes what mcuq
computes up to rounding: its requantization rounds half to even, mcuq's half up, and its
float accumulation is not mcuq's integer one, so the result is close to the simulator
and need not be equal (`compare` measures it; tests/test_qdq.py holds it within one
output step). fp16 layers are float ops on float32 (QDQ has no fp16
form). What QDQ cannot express: the recurrent cells' fixed-point gates (Q12 sums, Q15
sigmoid/tanh tables), the int8 lookup tables of Sigmoid, Tanh and the pointwise functions
(ONNX computes the exact function between Q and DQ instead) and the exponential table of
int8 Softmax. A layer kind without a QDQ form (its op module declares no `onnx_nodes`)
is refused by name.

Each op module declares `onnx_nodes(qlayer, builder, inputs) -> output name`; the
Builder here holds the graph being written and the helpers they share.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mcuq import outliers
from mcuq.errors import McuqError
from mcuq.ops import op
from mcuq.qgraph import QGraph, QLayer, QTensor

OPSET = 17


class Builder:
    def __init__(self, qgraph: QGraph):
        self.qgraph = qgraph
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, value) -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op_type: str, inputs: list, hint: str | None = None, **attrs) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def quantized(self, x: str, tensor: QTensor) -> str:
        """x through QuantizeLinear and DequantizeLinear at the tensor's int8 format; fp16
        tensors pass as they are."""
        if tensor.dtype != "int8":
            return x
        scale = self.const("scale", np.float32(tensor.scale))
        zero = self.const("zero_point", np.int8(tensor.zero_point))
        return self.node("DequantizeLinear", [self.node("QuantizeLinear", [x, scale, zero]),
                                              scale, zero])

    def weights(self, qlayer: QLayer, weight: np.ndarray) -> tuple[str, str]:
        """(W, B) float inputs of a matvec layer; `weight` is the stored weight in ONNX's
        axis order (integer codes, outliers kept aside included, or fp16). int8:
        DequantizeLinear with per-channel scales; where outliers were kept aside (int16
        codes, which int8 cannot hold) the dequantized weights as float, since ONNX
        Runtime fuses a DequantizeLinear of int32 weights into kernels that refuse them."""
        a = qlayer.arrays
        if qlayer.params["precision"] == "fp16":
            return (self.const("weight", weight.astype(np.float32)),
                    self.const("bias", a["bias"].astype(np.float32)))
        qin = self.qgraph.tensors[qlayer.inputs[0]]
        s_x, s_y = qin.scale, self.qgraph.tensors[qlayer.outputs[0]].scale
        m = a["mult"].astype(np.float64) * 2.0 ** -a["shift"].astype(np.float64)
        w_scale = np.where(m > 0, m * s_y / s_x, 1.0).astype(np.float32)
        codes = np.asarray(weight).reshape(len(w_scale), -1)
        # mcuq's bias holds -zp_x sum_k W[n][k] (its kernels sum raw codes): take it out
        bias = a["bias"].astype(np.int64) + qin.zero_point * codes.astype(np.int64).sum(axis=1)
        if outliers.has_outliers(a):
            shape = (-1,) + (1,) * (weight.ndim - 1)
            w = self.const("weight", (weight * w_scale.reshape(shape)).astype(np.float32))
        else:
            w = self.node("DequantizeLinear", [self.const("weight", weight.astype(np.int8)),
                                               self.const("w_scale", w_scale),
                                               self.const("w_zero", np.zeros(len(w_scale), np.int8))],
                          axis=0)
        b = self.node("DequantizeLinear", [self.const("bias", bias.astype(np.int32)),
                                           self.const("b_scale", (w_scale * np.float32(s_x)).astype(np.float32)),
                                           self.const("b_zero", np.zeros(len(w_scale), np.int32))],
                      axis=0)
        return w, b

    def activation(self, y: str, params: dict) -> str:
        """The fused clamp (ReLU, ReLU6, Hardtanh) after a matvec layer."""
        kind = params.get("activation", "none")
        if kind == "relu":
            return self.node("Relu", [y])
        if kind == "clip":
            lo, hi = params.get("clip_min"), params.get("clip_max")
            return self.node("Clip", [y, self.const("lo", np.float32(-np.inf if lo is None else lo)),
                                      self.const("hi", np.float32(np.inf if hi is None else hi))])
        return y


def build(qgraph: QGraph) -> onnx.ModelProto:
    """The QDQ model of an export: input (1, *frame) float, output the same."""
    if qgraph.meta.get("recurrent"):
        raise McuqError("the export holds recurrent layers; QDQ has no form for their "
                        "fixed-point gates (Q12 sums, Q15 sigmoid/tanh tables): evaluate them "
                        "with mcuq simulate instead")
    b = Builder(qgraph)
    names = {qgraph.input: b.quantized("input", qgraph.input_tensor)}
    for layer in qgraph.layers:
        spec = op(layer.kind)
        if not hasattr(spec.module, "onnx_nodes"):
            raise McuqError(f"layer {layer.name} ({layer.kind}) has no QDQ form in mcuq yet")
        y = spec.module.onnx_nodes(layer, b, [names[t] for t in layer.inputs])
        names[layer.outputs[0]] = b.quantized(y, qgraph.tensors[layer.outputs[0]])
    out = b.node("Identity", [names[qgraph.output]], "output")
    shape_in = [1, *qgraph.input_tensor.shape]
    shape_out = [1, *qgraph.output_tensor.shape]
    graph = helper.make_graph(
        b.nodes, f"{qgraph.name}_qdq",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape_in)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, shape_out)], b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="mcuq")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write(model: onnx.ModelProto, path: Path) -> Path:
    from mcuq.files import atomic_file
    with atomic_file(Path(path)) as tmp:
        tmp.write_bytes(model.SerializeToString())
    return Path(path)


def compare(model: onnx.ModelProto, qgraph: QGraph, frames: np.ndarray) -> dict:
    """ONNX Runtime on the QDQ model against mcuq's simulator on (items, *frame) float
    frames: the SQNR (dB) of ONNX Runtime's output taking the simulator's as the signal,
    and the largest difference in output steps (int8) or in value (fp16)."""
    import onnxruntime as ort

    from mcuq.simulate import Simulator
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = np.concatenate([sess.run(None, {"input": f[None]})[0] for f in frames])
    want = Simulator(qgraph).run(frames[:, None].astype(np.float32))[:, 0]
    want = want.reshape(got.shape).astype(np.float64)
    err = got.astype(np.float64) - want
    sqnr = float(10 * np.log10(np.sum(want ** 2) / max(np.sum(err ** 2), 1e-30)))
    step = qgraph.output_tensor.scale if qgraph.output_tensor.dtype == "int8" else 1.0
    return {"sqnr_db": round(sqnr, 2), "max_difference_steps": float(np.abs(err).max() / step),
            "frames": int(len(frames))}

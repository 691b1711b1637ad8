"""Helpers of the graph-pass tests: run a graph in mcuq's float executor and the original
ONNX model in ONNX Runtime on the same frame-wise data."""
from __future__ import annotations

import copy

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from mcuq.reference import FloatModel


def ort_frames(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """ONNX Runtime on (items, *shape), one item at a time with a batch axis of 1."""
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: item[None]})[0] for item in x])


def float_frames(graph, x: np.ndarray) -> np.ndarray:
    """mcuq's float executor on (items, *shape), each item one frame."""
    return FloatModel(graph).run(x[:, None])[:, 0]


def check_pass(graph_pass, graph, model: onnx.ModelProto, x: np.ndarray, atol=2e-5):
    """Float outputs equal ONNX Runtime's before and after the pass; returns the result."""
    want = ort_frames(model, x)
    np.testing.assert_allclose(float_frames(graph, x), want, rtol=0, atol=atol)
    after = graph_pass(copy.deepcopy(graph))
    np.testing.assert_allclose(float_frames(after, x), want, rtol=0, atol=atol)
    return after


def onnx_model(nodes, inits, in_shape, out_name="y", out_shape=(1, None)) -> onnx.ModelProto:
    """A hand-written ONNX model (what an exporter we did not write might emit)."""
    graph = helper.make_graph(
        nodes, "hand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(out_shape))],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model

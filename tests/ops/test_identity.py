"""Identity and Dropout: imported as identity layers, removed by the pass
remove_identities (float outputs unchanged, checked against ONNX Runtime)."""
import numpy as np
import pytest
from onnx import helper, numpy_helper

from mcuq.frontend import import_onnx
from mcuq.passes import remove_identities, run_passes
from passtest import check_pass, float_frames, onnx_model, ort_frames

RNG = np.random.default_rng(3)


def test_remove_identities_keeps_the_float_outputs():
    model = onnx_model([helper.make_node("Identity", ["x"], ["a"], name="id_in"),
                        helper.make_node("Gemm", ["a", "w", "b"], ["h"], name="fc", transB=1),
                        helper.make_node("Dropout", ["h"], ["d"], name="drop"),
                        helper.make_node("Tanh", ["d"], ["t"], name="tanh"),
                        helper.make_node("Identity", ["t"], ["y"], name="id_out")],
                       {"w": RNG.standard_normal((5, 7)), "b": RNG.standard_normal(5)}, [1, 7])
    graph = import_onnx(model)
    assert [lay.kind for lay in graph.layers].count("identity") == 3
    x = RNG.standard_normal((17, 7)).astype(np.float32)
    after = check_pass(remove_identities, graph, model, x)
    assert [lay.kind for lay in after.layers] == ["linear", "tanh"]
    assert after.output == after.layers[-1].outputs[0]


@pytest.mark.parametrize("node", [helper.make_node("Identity", ["x"], ["y"], name="id"),
                                  helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="id")])
def test_a_model_of_identities_only_is_a_copy(node):
    """Nothing but identities or a change of layout: one copy of the input, so that the
    model still has an output of its own."""
    model = onnx_model([node], {"axes": np.array([0])} if node.op_type == "Unsqueeze" else {},
                       [1, 7], out_shape=(None, None, None) if node.op_type == "Unsqueeze" else (1, None))
    if node.op_type == "Unsqueeze":  # axes are int64
        model.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.array([0], np.int64), "axes"))
    graph = run_passes(import_onnx(model))
    assert [lay.kind for lay in graph.layers] == ["transpose"] and graph.output != graph.input
    x = RNG.standard_normal((5, 7)).astype(np.float32)
    np.testing.assert_array_equal(float_frames(graph, x), ort_frames(model, x).reshape(5, 7))

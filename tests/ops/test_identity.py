"""Identity and Dropout: imported as identity layers, removed by the pass
remove_identities (float outputs unchanged, checked against ONNX Runtime)."""
import numpy as np
import pytest
from onnx import helper

from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from mcuq.passes import remove_identities, run_passes
from passtest import check_pass, onnx_model

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


def test_a_model_of_identities_only_is_refused():
    model = onnx_model([helper.make_node("Identity", ["x"], ["y"], name="id")], {}, [1, 7])
    with pytest.raises(McuqError, match="nothing to compute"):
        run_passes(import_onnx(model))

"""GRU on its own, int8 and fp16, odd sizes, state carried over 9 frames."""
import pytest

from optest import check_op
from recurrent_models import One


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_gru(tmp_path, precision):
    qgraph = check_op(tmp_path, One("gru", 11, 13, seed=3), "gru", precision, shape=(11,),
                      time=9, exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["gru"]


def test_gru_hidden_size_one(tmp_path):
    """A per-frame axis of extent 1 (dynamo's Reshape around it must keep it the feature axis)."""
    qgraph = check_op(tmp_path, One("gru", 5, 1, seed=6), "gru", "int8", shape=(5,), time=9,
                      exporter="onnx_dynamo")
    assert qgraph.output_tensor.shape == (1,)


def reset_first_gru(features: int, hidden: int, seed: int):
    """An ONNX GRU with linear_before_reset=0 (ONNX's default, Keras reset_after=False):
    written by hand, since PyTorch's GRU is the other form."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = {"W": rng.standard_normal((1, 3 * hidden, features)) * 0.6,
             "R": rng.standard_normal((1, 3 * hidden, hidden)) * 0.6,
             "B": rng.standard_normal((1, 6 * hidden)) * 0.3}
    node = helper.make_node("GRU", ["x", "W", "R", "B"], ["y", "y_h"], name="gru_rf",
                            hidden_size=hidden, linear_before_reset=0)
    squeeze = helper.make_node("Squeeze", ["y", "axes"], ["out"], name="sq")
    graph = helper.make_graph(
        [node, squeeze], "gru_rf",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["time", 1, features])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["time", 1, hidden])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()]
        + [numpy_helper.from_array(np.array([1], np.int64), "axes")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_gru_reset_first_float_matches_onnxruntime(tmp_path):
    import numpy as np
    import onnxruntime as ort

    from conftest import random_sequences
    from mcuq.frontend import import_onnx
    from mcuq.reference import FloatModel

    model = reset_first_gru(7, 9, seed=1)
    graph = import_onnx(model)
    assert graph.layers[0].attrs["linear_before_reset"] == 0
    seq = random_sequences(1, 13, 7, seed=3)[0]
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": seq[:, None]})[0][:, 0]
    np.testing.assert_allclose(FloatModel(graph).run(seq[None])[0], want, rtol=0, atol=2e-5)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_gru_reset_first(tmp_path, precision):
    import numpy as np
    import onnx

    from conftest import random_sequences
    from mcuq.export import export
    from mcuq.qgraph import QGraph
    from mcuq.verify import verify

    onnx.save(reset_first_gru(11, 13, seed=2), tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", random_sequences(4, 9, 11, seed=5))
    export(tmp_path / "m.onnx", tmp_path / "calib.npy", tmp_path / "out", precision=precision)
    layer = QGraph.load(tmp_path / "out").layers[0]
    assert layer.kind == "gru" and layer.params["linear_before_reset"] == 0
    frames = random_sequences(1, 9, 11, seed=6)[0]
    for target in ("host", "qemu"):
        for cores in (1, 8):
            assert verify(tmp_path / "out", target, frames, cores=cores)["bit_exact"]

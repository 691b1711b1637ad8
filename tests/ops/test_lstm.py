"""LSTM on its own, int8 and fp16, odd sizes, state carried over 9 frames."""
import pytest

from optest import check_op
from recurrent_models import One


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_lstm(tmp_path, precision):
    qgraph = check_op(tmp_path, One("lstm", 7, 15, seed=4), "lstm", precision, shape=(7,),
                      time=9, exporter="torchscript")
    assert [q.kind for q in qgraph.layers] == ["lstm"]


def test_lstm_hidden_size_one(tmp_path):
    qgraph = check_op(tmp_path, One("lstm", 5, 1, seed=7), "lstm", "fp16", shape=(5,), time=9,
                      exporter="torch_export")
    assert qgraph.output_tensor.shape == (1,)


def peephole_lstm(features: int, hidden: int, seed: int):
    """An ONNX LSTM with peephole weights P (PyTorch's LSTM has none): written by hand."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = {"W": rng.standard_normal((1, 4 * hidden, features)) * 0.6,
             "R": rng.standard_normal((1, 4 * hidden, hidden)) * 0.6,
             "B": rng.standard_normal((1, 8 * hidden)) * 0.3,
             "P": rng.standard_normal((1, 3 * hidden)) * 0.8}
    node = helper.make_node("LSTM", ["x", "W", "R", "B", "", "", "", "P"], ["y"], name="lstm_p",
                            hidden_size=hidden)
    squeeze = helper.make_node("Squeeze", ["y", "axes"], ["out"], name="sq")
    graph = helper.make_graph(
        [node, squeeze], "lstm_p",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["time", 1, features])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["time", 1, hidden])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()]
        + [numpy_helper.from_array(np.array([1], np.int64), "axes")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_lstm_peepholes_float_matches_onnxruntime():
    import numpy as np
    import onnxruntime as ort

    from conftest import random_sequences
    from mcuq.frontend import import_onnx
    from mcuq.reference import FloatModel

    model = peephole_lstm(6, 9, seed=1)
    graph = import_onnx(model)
    assert graph.layers[0].weights["peephole"].shape == (3, 9)
    seq = random_sequences(1, 17, 6, seed=3)[0]
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x": seq[:, None]})[0][:, 0]
    np.testing.assert_allclose(FloatModel(graph).run(seq[None])[0], want, rtol=0, atol=2e-5)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_lstm_peepholes(tmp_path, precision):
    import json

    import numpy as np
    import onnx

    from conftest import random_sequences
    from mcuq.export import export
    from mcuq.verify import verify

    onnx.save(peephole_lstm(11, 13, seed=2), tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", random_sequences(4, 9, 11, seed=5))
    export(tmp_path / "m.onnx", tmp_path / "calib.npy", tmp_path / "out", precision=precision)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["layers"][0]["sqnr_db"] > (25 if precision == "int8" else 45)
    frames = random_sequences(1, 9, 11, seed=6)[0]
    for target in ("host", "qemu"):
        for cores in (1, 8):
            assert verify(tmp_path / "out", target, frames, cores=cores)["bit_exact"]

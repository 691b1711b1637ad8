"""LSTM on its own, int8 and fp16, odd sizes, state carried over 9 frames."""
import pytest

from optest import check_onnx_rnn, check_op, float_matches_onnxruntime, onnx_rnn
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


def test_lstm_peepholes_float_matches_onnxruntime():
    """Peepholes (ONNX input P): PyTorch's LSTM has none, so the model is written by hand."""
    graph = float_matches_onnxruntime(onnx_rnn("LSTM", 6, 9, seed=1, peepholes=True), 6)
    assert graph.layers[0].weights["peephole"].shape == (3, 9)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_lstm_peepholes(tmp_path, precision):
    qgraph = check_onnx_rnn(tmp_path, onnx_rnn("LSTM", 11, 13, seed=2, peepholes=True),
                            "lstm", precision, 11, min_sqnr={"int8": 25.0, "fp16": 45.0})
    assert "peephole" in qgraph.layers[0].arrays

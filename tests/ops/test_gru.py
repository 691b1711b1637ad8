"""GRU on its own, int8 and fp16, odd sizes, state carried over 9 frames."""
import pytest

from optest import check_onnx_rnn, check_op, float_matches_onnxruntime, onnx_rnn
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


def test_gru_reset_first_float_matches_onnxruntime():
    """linear_before_reset=0 (ONNX's default, Keras reset_after=False): PyTorch's GRU is
    the other form, so the model is written by hand."""
    graph = float_matches_onnxruntime(onnx_rnn("GRU", 7, 9, seed=1, linear_before_reset=0), 7)
    assert graph.layers[0].attrs["linear_before_reset"] == 0


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_gru_reset_first(tmp_path, precision):
    qgraph = check_onnx_rnn(tmp_path, onnx_rnn("GRU", 11, 13, seed=2, linear_before_reset=0),
                            "gru", precision, 11)
    assert qgraph.layers[0].params["linear_before_reset"] == 0

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

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

"""Vanilla RNN (tanh) on its own, int8 and fp16, odd sizes, state carried over 9 frames."""
import pytest
import torch

from conftest import save_model
from mcuq.errors import McuqError
from mcuq.frontend import load_model
from optest import check_op
from recurrent_models import One


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_rnn(tmp_path, precision):
    qgraph = check_op(tmp_path, One("rnn", 11, 13, seed=4), "rnn", precision, shape=(11,),
                      time=9, exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["rnn"]


def test_rnn_with_relu_is_refused_naming_its_activation(tmp_path):
    path = save_model(One("rnn", 5, 6, seed=1, nonlinearity="relu").eval(),
                      torch.zeros(1, 9, 5), "onnx_legacy", tmp_path / "m")
    with pytest.raises(McuqError, match=r"activations \['relu'\] are not supported"):
        load_model(path)


def test_rnn_unrolled_by_the_exporter_is_refused_with_the_cause(tmp_path):
    """The dynamo exporter unrolls nn.RNN over time into slices: the error says so, once."""
    path = save_model(One("rnn", 5, 6, seed=1).eval(), torch.zeros(1, 9, 5), "onnx_dynamo",
                      tmp_path / "m")
    with pytest.raises(McuqError, match=r"dynamo=False") as err:
        load_model(path)
    assert str(err.value).count("dynamo=False") == 1 and "more" in str(err.value)

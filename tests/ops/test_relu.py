"""ReLU on its own (not after a Linear), int8 and fp16, on a vector and an image."""
import pytest
import torch

from optest import check_op


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_relu_vector(tmp_path, precision):
    qgraph = check_op(tmp_path, torch.nn.ReLU(), "relu", precision, shape=(17,),
                      exporter="torchscript")
    assert [q.kind for q in qgraph.layers] == ["relu"]


def test_relu_image(tmp_path):
    qgraph = check_op(tmp_path, torch.nn.ReLU(), "relu", "int8", shape=(3, 5, 7))
    assert qgraph.output_tensor.shape == (3, 5, 7)

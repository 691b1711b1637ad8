"""Add of two activations with different scales (int8 rescales both sides), and fp16;
on a vector and on an image."""
import pytest
import torch

from optest import check_op


class Residual(torch.nn.Module):
    """x + tanh(x): the two inputs of the Add have very different ranges."""

    def forward(self, x):
        return x + torch.tanh(x)


class Three(torch.nn.Module):
    """An Add whose output feeds another Add (two inputs from two layers)."""

    def forward(self, x):
        return (torch.sigmoid(x) + torch.relu(x)) + x


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_add_vector(tmp_path, precision):
    qgraph = check_op(tmp_path, Residual(), "add", precision, shape=(21,),
                      exporter="torch_export")
    assert sorted(q.kind for q in qgraph.layers) == ["add", "tanh"]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_add_image(tmp_path, precision):
    qgraph = check_op(tmp_path, Three(), "add", precision, shape=(3, 5, 7),
                      exporter="onnx_dynamo")
    assert [q.kind for q in qgraph.layers].count("add") == 2

"""Add of two activations with different scales (int8 rescales both sides), and fp16;
on a vector and on an image; Add and Sub of a constant of the frame's shape."""
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


class PlusConstant(torch.nn.Module):
    """A constant of the frame's shape added (a learned positional term) or subtracted."""
    def __init__(self, subtract: bool):
        super().__init__()
        self.subtract = subtract
        self.offset = torch.nn.Parameter(torch.linspace(-1.5, 2.5, 3 * 4 * 5).reshape(1, 3, 4, 5))

    def forward(self, x):
        return x - self.offset if self.subtract else self.offset + x


@pytest.mark.parametrize("precision", ["int8", "fp16"])
@pytest.mark.parametrize("subtract", [False, True])
def test_add_of_a_constant_tensor(tmp_path, precision, subtract):
    qgraph = check_op(tmp_path, PlusConstant(subtract), "add", precision, shape=(3, 4, 5),
                      items=4, exporter="onnx_dynamo" if subtract else "onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["add"] and "b" in qgraph.layers[0].arrays

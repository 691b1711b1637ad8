"""Linear (Gemm / MatMul + Add), int8 and fp16, one layer, odd sizes."""
import pytest
import torch

from optest import check_op


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_linear(tmp_path, precision):
    torch.manual_seed(1)
    qgraph = check_op(tmp_path, torch.nn.Linear(13, 11), "linear", precision,
                      exporter="onnx_dynamo")  # MatMul + Add from the dynamo exporter
    assert [q.kind for q in qgraph.layers] == ["linear"]


def test_linear_relu_fused_int8(tmp_path):
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Linear(9, 7), torch.nn.ReLU())
    qgraph = check_op(tmp_path, model, "linear", "int8", shape=(9,))
    assert qgraph.layers[0].params["activation"] == "relu"


def test_linear_relu_that_is_always_zero_int8(tmp_path):
    """A ReLU output that never leaves 0 on the calibration data still gets a usable int8
    range (requantization multipliers that fit), and stays bit-exact."""
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU())
    with torch.no_grad():
        model[0].weight.fill_(0.0)
        model[0].bias.fill_(-1.0)
    qgraph = check_op(tmp_path, model, "linear", "int8", shape=(6,))
    assert qgraph.output_tensor.scale > 0

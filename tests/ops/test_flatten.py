"""Flatten of an image into a channel-major vector (a transpose of the HWC bytes in C),
from Flatten, Reshape (view) and Squeeze of a pooled image; float equal to ONNX Runtime
from every exporter; int8 and fp16 bit-exact on host and QEMU, 1 and 8 cores."""
import pytest
import torch

from conftest import save_model
from optest import check_op, float_matches_onnxruntime_on_images, frame_data


class View(torch.nn.Module):
    def forward(self, x):
        return x.view(x.shape[0], -1)


class PoolSqueeze(torch.nn.Module):
    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_flatten(tmp_path, precision):
    qgraph = check_op(tmp_path, torch.nn.Flatten(), "flatten", precision, shape=(3, 5, 7), items=4)
    assert qgraph.output_tensor.shape == (105,)


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo", "torchscript", "torch_export"])
@pytest.mark.parametrize("model", [torch.nn.Flatten(), View(), PoolSqueeze()])
def test_float_equals_onnxruntime(tmp_path, exporter, model):
    path = save_model(model.eval(), torch.zeros(1, 4, 3, 5), exporter, tmp_path / "m",
                      dynamic_time=False)
    graph = float_matches_onnxruntime_on_images(path, frame_data(3, (4, 3, 5), seed=7))
    assert [lay.kind for lay in graph.layers][-1] == "flatten"

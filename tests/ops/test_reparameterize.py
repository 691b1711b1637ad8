"""RepVGG re-parameterization (mcuq.passes.reparameterize): a train-time RepVGG network
(3x3 conv + BN, 1x1 conv + BN and an identity BN, summed, then ReLU), as every exporter
writes it, becomes one 3x3 convolution per block with the float outputs unchanged
(against ONNX Runtime on the original model); the deploy-time form of the same network,
fused by PyTorch code written apart from mcuq, passes through unchanged and has the
same weights; the result deploys bit-exact."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from conftest import save_model
from mcuq.frontend import load_model
from mcuq.frontend.onnx_import import import_onnx
from mcuq.passes import fold_batchnorm, reparameterize, run_passes
from optest import export_and_verify, frame_data
from passtest import check_pass


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.dense, self.pointwise = conv_bn(cin, cout, 3, stride), conv_bn(cin, cout, 1, stride)
        self.identity = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None
        self.fused = None

    def forward(self, x):
        if self.fused is not None:
            return torch.relu(self.fused(x))
        y = self.dense(x) + self.pointwise(x)
        return torch.relu(y + self.identity(x) if self.identity is not None else y)

    def fuse(self):
        """The deploy-time block: BN into each kernel, the 1x1 and the identity padded
        into the centre of the 3x3 (RepVGG's own recipe, in PyTorch)."""
        def folded(conv, bn):
            std = (bn.running_var + bn.eps).sqrt()
            return conv.weight * (bn.weight / std).reshape(-1, 1, 1, 1), \
                bn.bias - bn.running_mean * bn.weight / std
        w3, b3 = folded(*self.dense)
        w1, b1 = folded(*self.pointwise)
        w = w3 + nn.functional.pad(w1, [1, 1, 1, 1])
        b = b3 + b1
        if self.identity is not None:
            eye = torch.zeros_like(w3)
            eye[torch.arange(w.shape[0]), torch.arange(w.shape[0]), 1, 1] = 1.0
            std = (self.identity.running_var + self.identity.eps).sqrt()
            w = w + eye * (self.identity.weight / std).reshape(-1, 1, 1, 1)
            b = b + self.identity.bias - self.identity.running_mean * self.identity.weight / std
        self.fused = nn.Conv2d(w.shape[1], w.shape[0], 3, self.dense[0].stride, 1)
        self.fused.weight.data, self.fused.bias.data = w.detach(), b.detach()


class TinyRepVGG(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(11)
        self.blocks = nn.Sequential(Block(3, 6, 2), Block(6, 6, 1), Block(6, 8, 2), Block(8, 8, 1))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
        for m in self.modules():  # trained-looking statistics, not the identity
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.3, 0.3)

    def forward(self, x):
        return self.head(self.blocks(x))

    def deploy(self):
        model = copy.deepcopy(self)
        for block in model.blocks:
            block.fuse()
        return model


IMAGE = (3, 13, 11)


def conv_weights(graph):
    return [(lay.weights["weight"], lay.weights["bias"]) for lay in graph.layers
            if lay.kind == "conv2d"]


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo", "torchscript", "torch_export"])
def test_train_and_deploy_forms_give_one_fused_model(tmp_path, exporter):
    model = TinyRepVGG().eval()
    images = frame_data(6, IMAGE, seed=4)
    train = load_model(save_model(model, torch.zeros(1, *IMAGE), exporter, tmp_path / "train",
                                  dynamic_time=False), features=IMAGE[-1], image=IMAGE)[1]
    deploy = load_model(save_model(model.deploy().eval(), torch.zeros(1, *IMAGE), exporter,
                                   tmp_path / "deploy", dynamic_time=False),
                        features=IMAGE[-1], image=IMAGE)[1]
    kinds = [lay.kind for lay in train.layers]
    assert kinds == ["conv2d"] * 4 + ["global_avgpool", "flatten", "linear"], kinds
    assert kinds == [lay.kind for lay in deploy.layers]
    assert all(lay.attrs.get("activation") == "relu" for lay in train.layers[:4])
    for (wt, bt), (wd, bd) in zip(conv_weights(train), conv_weights(deploy)):
        assert wt.shape == wd.shape == (wt.shape[0], wt.shape[1], 3, 3)
        np.testing.assert_allclose(wt, wd, rtol=0, atol=1e-5 * np.abs(wd).max())
        np.testing.assert_allclose(bt, bd, rtol=0, atol=1e-5 * np.abs(bd).max())
    assert "reparameterize" in train.passes


def test_float_outputs_unchanged_against_onnxruntime(tmp_path):
    model = TinyRepVGG().eval()
    path = save_model(model, torch.zeros(1, *IMAGE), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    import onnx
    onnx_model = onnx.load(path)
    graph = fold_batchnorm(import_onnx(onnx_model))
    assert [lay.kind for lay in graph.layers].count("add") == 6
    after = check_pass(reparameterize, graph, onnx_model, frame_data(5, IMAGE, seed=2), atol=1e-4)
    assert [lay.kind for lay in after.layers].count("add") == 0
    assert [lay.kind for lay in after.layers].count("conv2d") == 4


def test_residual_add_of_a_conv_is_merged_but_not_a_plain_sum():
    """x + conv(x) merges (the identity is a kernel); a + b of two other layers and z + z
    of one layer do not."""
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.other = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            y = x + self.conv(x)
            z = self.other(y)
            return torch.relu(y) + torch.relu(z + z)

    import io
    import onnx
    buffer = io.BytesIO()
    torch.onnx.export(Residual().eval(), (torch.zeros(1, 4, 5, 5),), buffer, dynamo=False)
    onnx_model = onnx.load_from_string(buffer.getvalue())
    graph = run_passes(import_onnx(onnx_model))
    assert [lay.kind for lay in graph.layers] == ["conv2d", "conv2d", "relu", "add", "relu", "add"], \
        [lay.kind for lay in graph.layers]


def test_fused_model_deploys_bit_exact(tmp_path):
    model = TinyRepVGG().eval()
    path = save_model(model, torch.zeros(1, *IMAGE), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    images = frame_data(6, IMAGE, seed=3)
    for precision in ("int8", "fp16"):
        export_and_verify(tmp_path, path, images, images, "conv2d", precision)

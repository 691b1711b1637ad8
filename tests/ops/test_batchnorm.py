"""BatchNormalization: imported as its own float layer, folded into the Linear before it
by the pass fold_batchnorm (float outputs unchanged, checked against ONNX Runtime), then
deployed bit-exact; where nothing can absorb it, a 1x1 depthwise layer of its own."""
import numpy as np
import pytest
from onnx import helper

from mcuq.frontend import import_onnx
from mcuq.passes import fold_batchnorm
from optest import check_op
from passtest import check_pass, onnx_model

RNG = np.random.default_rng(8)
INITS = {"w": RNG.standard_normal((9, 7)), "b": RNG.standard_normal(7),
         "gamma": RNG.uniform(0.5, 2, 7), "beta": RNG.standard_normal(7),
         "mean": RNG.standard_normal(7), "var": RNG.uniform(0.2, 3, 7)}
BN = helper.make_node("BatchNormalization", ["h", "gamma", "beta", "mean", "var"], ["n"],
                      name="bn", epsilon=1e-3)


def test_fold_batchnorm_keeps_the_float_outputs():
    model = onnx_model([helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc"), BN,
                        helper.make_node("Relu", ["n"], ["y"], name="relu")], INITS, [1, 9])
    graph = import_onnx(model)
    assert [lay.kind for lay in graph.layers] == ["linear", "batchnorm", "relu"]
    x = RNG.standard_normal((23, 9)).astype(np.float32)
    after = check_pass(fold_batchnorm, graph, model, x)
    assert [lay.kind for lay in after.layers] == ["linear", "relu"]
    assert "'bn'" in after.layers[0].source


def test_batchnorm_folded_model_deploys(tmp_path):
    import torch

    class LinearBn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(9)
            self.fc, self.bn = torch.nn.Linear(11, 9), torch.nn.BatchNorm1d(9)
            with torch.no_grad():
                self.bn.running_mean.uniform_(-1, 1)
                self.bn.running_var.uniform_(0.3, 2)
                self.bn.weight.uniform_(0.5, 1.5)

        def forward(self, x):
            return torch.relu(self.bn(self.fc(x)))

    # the legacy exporter keeps the BatchNormalization node (dynamo folds it itself)
    qgraph = check_op(tmp_path, LinearBn(), "linear", "int8", shape=(11,), exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["linear"]
    assert "BatchNormalization" in qgraph.layers[0].source  # folded by mcuq
    assert qgraph.layers[0].params["activation"] == "relu"


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_batchnorm_with_nothing_to_fold_into_is_a_1x1_depthwise_layer(tmp_path, precision):
    """A BatchNorm on the model input (a vector's features): it runs as a 1x1 depthwise
    layer over the features, a 1x1 image's channels."""
    import onnx

    from optest import export_and_verify, frame_data
    model = onnx_model([helper.make_node("BatchNormalization", ["x", "gamma", "beta", "mean",
                                                                "var"], ["n"], name="bn0"),
                        helper.make_node("Tanh", ["n"], ["y"], name="tanh")], INITS, [1, 7])
    onnx.save(model, tmp_path / "m.onnx")
    data = frame_data(9, (7,), 2)
    qgraph = export_and_verify(tmp_path, tmp_path / "m.onnx", data, data, "depthwise_conv2d", precision)
    assert [q.kind for q in qgraph.layers] == ["depthwise_conv2d", "tanh"]
    assert qgraph.tensors[qgraph.layers[0].outputs[0]].shape == (7,)


class ScaleLayers(__import__("torch").nn.Module):
    """Per-channel Mul, Div, Add and Sub after a convolution and after a Linear: scale
    layers that fold like a BatchNorm."""

    def __init__(self):
        import torch

        super().__init__()
        torch.manual_seed(4)
        self.conv, self.fc = torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4 * 3 * 2, 5)
        self.register_buffer("a", torch.tensor([0.5, -1.5, 2.0, 0.25]).reshape(1, 4, 1, 1))
        self.register_buffer("b", torch.tensor([0.1, 0.2, -0.3, 0.4]).reshape(1, 4, 1, 1))
        self.register_buffer("c", torch.linspace(0.5, 2.0, 5))

    def forward(self, x):
        h = (self.conv(x) * self.a + self.b) / 2.0 - self.b
        return 1.0 - self.fc(h.flatten(1)) / self.c


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_per_channel_scale_layers_fold_and_deploy(tmp_path, precision):
    qgraph = check_op(tmp_path, ScaleLayers(), "conv2d", precision, shape=(3, 5, 4),
                      exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["conv2d", "flatten", "linear"]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_an_input_normalisation_is_a_1x1_depthwise_layer(tmp_path, precision):
    """(x - mean) / std per channel on the input image, as vision models start: nothing
    before it to fold into, so it is a layer of its own."""
    import torch

    class Normalise(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1))
            self.pool = torch.nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool((x - self.mean) / self.std)

    qgraph = check_op(tmp_path, Normalise(), "depthwise_conv2d", precision, shape=(3, 6, 5),
                      items=4, exporter="onnx_legacy")
    assert [q.kind for q in qgraph.layers] == ["depthwise_conv2d", "maxpool"]
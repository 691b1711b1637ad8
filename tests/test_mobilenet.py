"""A MobileNetV2 (torchvision's architecture, written out in mcuq.vision.models: Conv-BN-ReLU6 stem,
inverted residual blocks with a depthwise 3x3 and a linear bottleneck, residual Adds, a
1x1 head, global average pooling, Dropout, Linear) at width 0.25 on 3x16x16 images, with
BatchNorm statistics from data rather than the defaults: the float model agrees with ONNX
Runtime, every ReLU6 is fused into its convolution, and int8 and fp16 are bit-exact on
the host and on QEMU at 1 and 8 cores."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from conftest import save_model
from mcuq.export import export
from mcuq.pipeline import import_model
from mcuq.qgraph import QGraph
from mcuq.reference import FloatModel
from mcuq.verify import verify
from mcuq.vision.models import MobileNetV2


# torchvision's MobileNetV2 at width 0.25, the stages cut to what a 16x16 input keeps
SETTINGS = ((1, 4, 1, 1), (6, 6, 2, 2), (6, 8, 3, 2), (6, 16, 2, 1))


@pytest.fixture(scope="module")
def mobilenet(tmp_path_factory):
    d = tmp_path_factory.mktemp("mobilenet")
    torch.manual_seed(0)
    model = MobileNetV2(settings=SETTINGS, stem=8, last=64, divisor=1)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (24, 3, 16, 16)).astype(np.float32)
    model.train()
    with torch.no_grad():  # BatchNorm statistics from data, not the defaults
        for _ in range(3):
            model(torch.from_numpy(images))
    path = save_model(model.eval(), torch.zeros(1, 3, 16, 16), "onnx_legacy", d / "mobilenet",
                      dynamic_time=False)
    np.save(d / "calib.npy", images[:16])
    return d, path, images, sum(isinstance(m, nn.ReLU6) for m in model.modules())


def test_float_matches_onnxruntime_and_relu6_is_fused(mobilenet):
    d, path, images, relu6 = mobilenet
    model, graph = import_model(path, images)
    kinds = [layer.kind for layer in graph.layers]
    assert "pointwise" not in kinds and kinds.count("add") == 4
    assert sum(layer.attrs.get("activation") == "clip" for layer in graph.layers) == relu6 == 17
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = np.concatenate([sess.run(None, {sess.get_inputs()[0].name: x[None]})[0] for x in images[:6]])
    got = FloatModel(graph).run(images[:6, None])[:, 0]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_bit_exact_on_host_and_qemu(mobilenet, tmp_path, precision):
    d, path, images, _ = mobilenet
    out = tmp_path / "out"
    export(path, d / "calib.npy", out, precision=precision, cores=8)
    assert QGraph.load(out).output_tensor.shape == (10,)
    for target, cores in (("host", 1), ("host", 8), ("qemu", 1), ("qemu", 8)):
        summary = verify(out, target, images[16:18], cores=cores)
        assert summary["bit_exact"] and summary["mismatched_bytes"] == 0, (target, cores, summary)

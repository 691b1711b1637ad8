"""MobileOne (mcuq.vision.models, written from the paper) in its train-time form: k = 4
over-parameterized depthwise and 1x1 branches per stage, a 1x1 scale branch and identity
BatchNorms, summed from the number 0 as its reference code does. From both ONNX exporters
it re-parameterizes into one depthwise and one 1x1 convolution per block (the layers of
the deploy-time form, fused by PyTorch apart from mcuq), with no BatchNorm left; the
float model agrees with ONNX Runtime and with the deploy-time form; int8 and fp16 are
bit-exact on host and QEMU at 1 and 8 cores."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import save_model
from mcuq.export import export
from mcuq.pipeline import import_model
from mcuq.qgraph import QGraph
from mcuq.reference import FloatModel
from mcuq.verify import verify
from mcuq.vision.models import MobileOne

DEPTHS = (1, 1, 2, 1, 1)


@pytest.fixture(scope="module")
def mobileone():
    torch.manual_seed(0)
    model = MobileOne(width=0.25, depths=DEPTHS)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (24, 3, 16, 16)).astype(np.float32)
    model.train()
    with torch.no_grad():  # BatchNorm statistics from data, not the defaults
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        for _ in range(3):
            model(torch.from_numpy(images))
    return model.eval(), images


def _ort(model, images):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {sess.get_inputs()[0].name: x[None]})[0] for x in images])


@pytest.mark.parametrize("exporter", ["onnx_legacy", "onnx_dynamo"])
def test_train_time_graph_reparameterizes_like_the_deploy_time_one(mobileone, tmp_path, exporter):
    model, images = mobileone
    path = save_model(model, torch.zeros(1, 3, 16, 16), exporter, tmp_path / "train", dynamic_time=False)
    onnx_model, graph = import_model(path, images)
    kinds = [layer.kind for layer in graph.layers]
    deployed = model.deploy()
    deploy_path = save_model(deployed, torch.zeros(1, 3, 16, 16), exporter, tmp_path / "deploy",
                             dynamic_time=False)
    deploy_kinds = [layer.kind for layer in import_model(deploy_path, images)[1].layers]
    assert kinds == deploy_kinds, (kinds, deploy_kinds)
    blocks = sum(DEPTHS[1:])
    assert kinds.count("depthwise_conv2d") == blocks and kinds.count("conv2d") == blocks + 1
    assert "batchnorm" not in kinds and "add" not in kinds
    got = FloatModel(graph).run(images[:6, None])[:, 0]
    np.testing.assert_allclose(got, _ort(onnx_model, images[:6]), rtol=0, atol=1e-4)
    with torch.no_grad():
        np.testing.assert_allclose(got, deployed(torch.from_numpy(images[:6])).numpy(), rtol=0, atol=1e-4)


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_bit_exact_on_host_and_qemu(mobileone, tmp_path, precision):
    model, images = mobileone
    path = save_model(model, torch.zeros(1, 3, 16, 16), "onnx_legacy", tmp_path / "m", dynamic_time=False)
    np.save(tmp_path / "calib.npy", images[:16])
    out = tmp_path / "out"
    export(path, tmp_path / "calib.npy", out, precision=precision, cores=8)
    assert QGraph.load(out).output_tensor.shape == (10,)
    for target, cores in (("host", 1), ("host", 8), ("qemu", 1), ("qemu", 8)):
        summary = verify(out, target, images[16:18], cores=cores)
        assert summary["bit_exact"] and summary["mismatched_bytes"] == 0, (target, cores, summary)


def test_cfws_splits_the_depthwise_and_pointwise_kernels(mobileone, tmp_path):
    """--cfws on MobileOne: each re-parameterized depthwise 3x3 (its centre absorbed the
    scale branch and the identity) splits into a coarse centre and a fine kernel, each 1x1
    with an identity branch into its diagonal and the rest; the export is bit-exact on
    host and QEMU at 1 and 8 cores, and the layer SQNR of the split layers is measured
    against the same layers without the split at 4 weight bits."""
    model, images = mobileone
    path = save_model(model, torch.zeros(1, 3, 16, 16), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    np.save(tmp_path / "calib.npy", images[:16])
    reports = {cfws: export(path, tmp_path / "calib.npy", tmp_path / f"w4{cfws}", cores=8,
                            weight_bits=4, cfws=cfws) for cfws in (False, True)}
    kinds = [row["kind"] for row in reports[True]["layers"]]
    assert kinds.count("depthwise_conv2d_cfws") == sum(DEPTHS[1:]), kinds
    split = {row["layer"] for row in reports[True]["layers"] if row["kind"] == "conv2d_cfws"}
    diagonal = [q for q in QGraph.load(tmp_path / "w4True").layers
                if q.name in split and q.params["diagonal"]]
    assert diagonal, kinds  # the stride-1 blocks with as many outputs as inputs
    last = {cfws: reports[cfws]["layers"][-1]["sqnr_db"] for cfws in reports}
    print("final SQNR at 4 bits, plain and CFWS:", last)
    assert last[True] > last[False], last
    out = tmp_path / "w8"
    export(path, tmp_path / "calib.npy", out, cores=8, cfws=True)
    for target, cores in (("host", 1), ("qemu", 1), ("qemu", 8)):
        summary = verify(out, target, images[16:18], cores=cores)
        assert summary["bit_exact"] and summary["mismatched_bytes"] == 0, (target, cores, summary)

"""Depthwise Conv2d with coarse & fine weight splitting (export --cfws): the split is
exact in float, the int8 layer is bit-exact on host and QEMU at 1 and 8 cores (odd
channels, stride 1 and 2, padding 1 and 0, fused ReLU), on the RTL with --isa xcv, and on
a MobileOne-like kernel whose centre tap absorbed an identity it beats plain per-channel
int8 (layer SQNR on the calibration data: by over 1 dB at 4 weight bits)."""
import json

import numpy as np
import pytest
import torch

from conftest import save_model
from mcuq.export import export
from mcuq.ops.depthwise_conv2d_cfws import split
from mcuq.qgraph import QGraph
from mcuq.verify import verify
from optest import export_and_verify, frame_data


def wide_centre_depthwise(channels, stride, padding, seed):
    """A depthwise 3x3 whose centre tap absorbed a 1x1 scale and an identity (MobileOne)."""
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(channels, channels, 3, stride=stride, padding=padding,
                           groups=channels)
    with torch.no_grad():
        conv.weight.mul_(0.1)
        conv.weight[:, 0, 1, 1] += 1.5 + torch.rand(channels)
    return conv


def test_split_is_exact_in_float():
    w = wide_centre_depthwise(7, 1, 1, 0).weight.detach().numpy()[:, 0].astype(np.float64)
    coarse, scale, fine = split(w, 8)
    whole = fine.copy()
    whole[:, 1, 1] += coarse * scale
    np.testing.assert_allclose(whole, w, rtol=0, atol=1e-12)
    assert np.abs(coarse).max() == 127 and np.abs(fine).max() < np.abs(w).max() / 4


@pytest.mark.parametrize("channels,stride,padding,relu", [(7, 1, 1, True), (6, 2, 1, False),
                                                          (5, 1, 0, True)])
def test_depthwise_cfws_is_bit_exact(tmp_path, channels, stride, padding, relu):
    conv = wide_centre_depthwise(channels, stride, padding, seed=channels)
    model = torch.nn.Sequential(conv, torch.nn.ReLU()) if relu else conv
    path = save_model(model.eval(), torch.zeros(1, channels, 9, 8), "onnx_legacy",
                      tmp_path / "m", dynamic_time=False)
    images = frame_data(6, (channels, 9, 8), seed=1)
    qgraph = export_and_verify(tmp_path, path, images, images, "depthwise_conv2d_cfws", "int8",
                               cfws=True)
    assert qgraph.layers[0].arrays["coarse"].shape == (channels,)


def test_depthwise_cfws_on_the_rtl(tmp_path):
    """With a 1x1 conv whose diagonal dominates after it (conv2d_cfws's diagonal split)."""
    conv = wide_centre_depthwise(7, 2, 1, seed=2)
    pointwise = torch.nn.Conv2d(7, 7, 1)
    with torch.no_grad():
        pointwise.weight.mul_(0.1)
        pointwise.weight[:, :, 0, 0] += torch.eye(7) * 2.0
    model = torch.nn.Sequential(conv, torch.nn.ReLU(), pointwise)
    path = save_model(model.eval(), torch.zeros(1, 7, 7, 9), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    images = frame_data(4, (7, 7, 9), seed=3)
    np.save(tmp_path / "calib.npy", images)
    export(path, tmp_path / "calib.npy", tmp_path / "xcv", cfws=True, isa="xcv", cores=8)
    layers = QGraph.load(tmp_path / "xcv").layers
    assert [q.kind for q in layers] == ["depthwise_conv2d_cfws", "conv2d_cfws"]
    assert layers[1].params["diagonal"] == 1
    for cores in (1, 8):
        summary = verify(tmp_path / "xcv", "rtl", images[:2], cores=cores)
        assert summary["bit_exact"] and summary["compared_bytes"] > 0, (cores, summary)


@pytest.mark.parametrize("bits", [8, 4])
def test_depthwise_cfws_beats_plain_per_channel_on_a_wide_centre(tmp_path, bits):
    conv = wide_centre_depthwise(9, 1, 1, seed=3)
    path = save_model(conv.eval(), torch.zeros(1, 9, 7, 7), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    np.save(tmp_path / "calib.npy", frame_data(16, (9, 7, 7), seed=2))
    sqnr = {}
    for cfws in (False, True):
        report = export(path, tmp_path / "calib.npy", tmp_path / f"o{cfws}", weight_bits=bits,
                        cfws=cfws)
        assert report["layers"][0]["kind"] == ("depthwise_conv2d_cfws" if cfws
                                               else "depthwise_conv2d")
        sqnr[cfws] = report["layers"][0]["sqnr_db"]
    print(json.dumps({"bits": bits, **{str(k): v for k, v in sqnr.items()}}))
    # at 8 bits the activations' rounding dominates either way; at 4 the outer taps of a
    # plain kernel keep one or two codes
    assert sqnr[True] > sqnr[False] + (1.0 if bits == 4 else 0.0), sqnr

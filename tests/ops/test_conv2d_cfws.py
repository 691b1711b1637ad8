"""Conv2d with coarse & fine weight splitting (export --cfws): the split is exact in
float, the int8 layer is bit-exact on host and QEMU at 1 and 8 cores (stride 1 and 2,
padding 1 and 0, fused ReLU), and on a re-parameterized kernel whose centre taps are
wide it beats plain per-channel int8 at 8 and 4 weight bits (layer SQNR, measured on
the calibration data)."""
import json

import numpy as np
import pytest
import torch

from conftest import save_model
from mcuq.ops.conv2d_cfws import split
from optest import export_and_verify, frame_data


def wide_centre_conv(cin, cout, stride, padding, seed):
    """A 3x3 conv whose centre taps absorbed a 1x1 and an identity branch (RepVGG)."""
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=padding)
    with torch.no_grad():
        conv.weight.mul_(0.1)
        conv.weight[:, :, 1, 1] += torch.randn(cout, cin) * 0.8
        for c in range(min(cin, cout)):
            conv.weight[c, c, 1, 1] += 1.5
    return conv


def test_split_is_exact_in_float():
    w = wide_centre_conv(5, 7, 1, 1, 0).weight.detach().numpy().astype(np.float64)
    coarse, scale, fine = split(w, 8)
    whole = fine.copy()
    whole[:, :, 1, 1] += coarse * scale[:, None]
    np.testing.assert_allclose(whole, w, rtol=0, atol=1e-12)
    assert np.abs(coarse).max() == 127 and np.abs(fine).max() < np.abs(w).max() / 4


@pytest.mark.parametrize("cin,cout,stride,padding,relu", [(5, 7, 1, 1, True), (4, 6, 2, 1, False),
                                                          (3, 5, 1, 0, True)])
def test_cfws_is_bit_exact(tmp_path, cin, cout, stride, padding, relu):
    conv = wide_centre_conv(cin, cout, stride, padding, seed=cin)
    model = torch.nn.Sequential(conv, torch.nn.ReLU()) if relu else conv
    path = save_model(model.eval(), torch.zeros(1, cin, 9, 8), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    images = frame_data(6, (cin, 9, 8), seed=1)
    qgraph = export_and_verify(tmp_path, path, images, images, "conv2d_cfws", "int8", cfws=True)
    assert qgraph.meta["cfws"] is True


def layer_sqnr(tmp_path, path, **options) -> float:
    from mcuq.export import export
    out = tmp_path / ("out_" + "_".join(f"{k}{v}" for k, v in options.items()))
    report = export(path, tmp_path / "calib.npy", out, **options)
    return report["layers"][0]["sqnr_db"]


@pytest.mark.parametrize("bits", [8, 4])
def test_cfws_beats_plain_per_channel_on_a_wide_centre(tmp_path, bits):
    conv = wide_centre_conv(8, 8, 1, 1, seed=3)
    path = save_model(conv.eval(), torch.zeros(1, 8, 7, 7), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    np.save(tmp_path / "calib.npy", frame_data(16, (8, 7, 7), seed=2))
    plain = layer_sqnr(tmp_path, path, weight_bits=bits)
    cfws = layer_sqnr(tmp_path, path, weight_bits=bits, cfws=True)
    print(json.dumps({"bits": bits, "plain_db": plain, "cfws_db": cfws}))
    assert cfws > plain + 1.0, (plain, cfws)


def identity_pointwise(channels, seed):
    """A 1x1 conv that absorbed an identity branch: its diagonal dominates (MobileOne)."""
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(channels, channels, 1)
    with torch.no_grad():
        conv.weight.mul_(0.1)
        conv.weight[:, :, 0, 0] += torch.diag(1.5 + torch.rand(channels))
    return conv


def test_a_pointwise_split_keeps_the_diagonal_apart():
    w = identity_pointwise(6, 0).weight.detach().numpy().astype(np.float64)
    coarse, scale, fine = split(w, 8)
    assert coarse.shape == (6,) and np.abs(coarse).max() == 127
    whole = fine.copy()
    whole[np.arange(6), np.arange(6), 0, 0] += coarse * scale
    np.testing.assert_allclose(whole, w, rtol=0, atol=1e-12)
    assert np.abs(fine).max() < np.abs(w).max() / 4


@pytest.mark.parametrize("stride", [1, 2])
def test_pointwise_cfws_is_bit_exact_and_beats_plain_at_four_bits(tmp_path, stride):
    conv = identity_pointwise(7, seed=stride)
    conv.stride = (stride, stride)
    path = save_model(torch.nn.Sequential(conv, torch.nn.ReLU()).eval(), torch.zeros(1, 7, 5, 6),
                      "onnx_legacy", tmp_path / "m", dynamic_time=False)
    images = frame_data(8, (7, 5, 6), seed=4)
    qgraph = export_and_verify(tmp_path, path, images, images[:3], "conv2d_cfws", "int8",
                               cfws=True)
    assert qgraph.layers[0].params["diagonal"] == 1
    np.save(tmp_path / "calib.npy", images)
    sqnr = {cfws: layer_sqnr(tmp_path, path, weight_bits=4, cfws=cfws) for cfws in (False, True)}
    assert sqnr[True] > sqnr[False] + 1.0, sqnr


def test_a_pointwise_conv_without_a_dominant_diagonal_is_not_split(tmp_path):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6, 6, 1)
    path = save_model(conv.eval(), torch.zeros(1, 6, 4, 4), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    np.save(tmp_path / "calib.npy", frame_data(4, (6, 4, 4), seed=0))
    from mcuq.export import export
    report = export(path, tmp_path / "calib.npy", tmp_path / "out", cfws=True)
    assert report["layers"][0]["kind"] == "conv2d"

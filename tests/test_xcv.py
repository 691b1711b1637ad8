"""The xcv instruction set (SIMD dot products, hardware loops) on the CV32E40P core's RTL.

Every int8 op runs in one of three small models with odd sizes (no dimension a multiple
of 4, so every dot product has a tail, and inputs sit at unaligned addresses), exported
with --isa xcv and verified byte for byte against the simulator on the RTL, on 1 core
and as an 8-core split (every core's share, its barriers included). The same exports
also verify on the host, where the xcv header's portable C form of the same primitives
(the form GAP SDK builds use, with the PULP builtins) runs; and the scalar rv32 kernels
verify on the RTL too, since they are the baseline the bench compares with.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import RTL_CLANG, random_sequences, save_model
from mcuq.export import export
from mcuq.layouts import simd_blocks
from mcuq.ops import op
from mcuq.qgraph import QGraph
from mcuq.verify import verify

ROOT = Path(__file__).resolve().parents[1]


class VectorOps(nn.Module):
    """linear (+fused ReLU), sigmoid, tanh, add, standalone relu, pointwise (HardSwish,
    LeakyReLU, a scalar Mul), concat."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(13, 11), nn.Linear(11, 9), nn.Linear(18, 5)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        g = self.fc2(h)
        s = torch.relu(torch.sigmoid(g) + torch.tanh(g))
        p = nn.functional.leaky_relu(nn.functional.hardswish(g), 0.1) * 0.5
        return self.fc3(torch.cat([s, p], dim=-1))


class Recurrent(nn.Module):
    """gru and lstm (the PyTorch forms), then a linear."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(7, 9, batch_first=True)
        self.lstm = nn.LSTM(9, 11, batch_first=True)
        self.fc = nn.Linear(11, 5)

    def forward(self, x):
        return self.fc(self.lstm(self.gru(x)[0])[0])


class ImageOps(nn.Module):
    """conv2d 3x3 (cfws with --cfws; a fused ReLU6) and 1x1, stride 1 and 2, depthwise,
    maxpool, average pool, global average pool, flatten, linear: 3 x 9 x 7 images."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, padding=1)
        self.dw = nn.Conv2d(5, 5, 3, stride=2, padding=1, groups=5)
        self.pw = nn.Conv2d(5, 7, 1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(7, 9, 3, padding=1)
        self.fc = nn.Linear(9, 5)

    def forward(self, x):
        x = nn.functional.relu6(self.conv(x))
        x = torch.relu(self.pw(self.dw(x)))
        x = nn.functional.avg_pool2d(self.pool(x), 3, stride=1, padding=1)
        x = torch.relu(self.conv2(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def _export(tmp_path: Path, name: str, isa: str, **options) -> tuple[Path, np.ndarray]:
    torch.manual_seed(5)
    if name == "recurrent":
        model, example = Recurrent().eval(), torch.zeros(1, 6, 7)
        data = random_sequences(4, 6, 7, seed=2)
        frames = data[0]
        path = save_model(model, example, "onnx_legacy", tmp_path / "model")
    else:
        model, shape = (VectorOps(), (13,)) if name == "vector" else (ImageOps(), (3, 9, 7))
        model = model.eval()
        rng = np.random.default_rng(3)
        data = (rng.standard_normal((6, *shape)) * 1.5 + 0.4).astype(np.float32)
        frames = data[:2]
        path = save_model(model, torch.zeros(1, *shape), "onnx_legacy", tmp_path / "model",
                          dynamic_time=False)
    np.save(tmp_path / "calib.npy", data)
    out = tmp_path / f"out_{isa}"
    export(path, tmp_path / "calib.npy", out, precision="int8", cores=8, isa=isa, **options)
    return out, frames


CASES = [("vector", {}), ("recurrent", {}), ("image", {}), ("image", {"cfws": True})]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}{'-cfws' if o else ''}"
                                                     for n, o in CASES])
def test_xcv_kernels_are_bit_exact_on_the_rtl(tmp_path, name, options):
    out, frames = _export(tmp_path, name, "xcv", **options)
    kinds = {layer.kind for layer in QGraph.load(out).layers}
    expected = {"vector": {"linear", "sigmoid", "tanh", "add", "relu", "concat", "pointwise"},
                "recurrent": {"gru", "lstm", "linear"},
                "image": {"conv2d_cfws" if options else "conv2d",
                          "depthwise_conv2d_cfws" if options else "depthwise_conv2d",
                          "maxpool", "avgpool", "global_avgpool", "flatten", "linear"}}[name]
    assert expected <= kinds, kinds
    if name == "image":  # the ReLU6 is the first convolution's clamp (act_max)
        assert QGraph.load(out).layers[0].params["activation"] == "clip"
    for target, cores in (("rtl", 1), ("rtl", 8), ("host", 3)):
        summary = verify(out, target, frames, cores=cores)
        assert summary["compared_bytes"] > 0 and summary["mismatched_bytes"] == 0, summary


def test_recurrent_forms_on_the_rtl(tmp_path):
    """The GRU form that needs the n row apart (mcuq_dot_row_s8), the LSTM with
    peepholes, the vanilla RNN (a Linear's SIMD layout) and a bidirectional GRU (a
    sequence model: run_sequence), hand-written ONNX, odd hidden sizes."""
    import onnx

    from tests.ops.optest import onnx_rnn

    forms = (("GRU", 7, {"linear_before_reset": 0}, (1, 8)),
             ("LSTM", 9, {"peepholes": True}, (1, 8)), ("RNN", 11, {}, (1, 8)),
             ("GRU", 6, {"direction": "bidirectional", "linear_before_reset": 1}, (8,)))
    for index, (op_type, hidden, kw, core_counts) in enumerate(forms):
        onnx.save(onnx_rnn(op_type, 5, hidden, seed=3, **kw), tmp_path / "m.onnx")
        np.save(tmp_path / "calib.npy", random_sequences(4, 9, 5, 5))
        out = tmp_path / f"{op_type}{index}"
        export(tmp_path / "m.onnx", tmp_path / "calib.npy", out, precision="int8", isa="xcv")
        for cores in core_counts:
            summary = verify(out, "rtl", random_sequences(1, 9, 5, 6)[0], cores=cores)
            assert summary["mismatched_bytes"] == 0 and summary["compared_bytes"] > 0, summary


class ConvFamilies(nn.Module):
    """Every shape family of the convolution kernels: a stem of 1 or 3 input channels
    (stride 2), a 3x3 with more than 32 input channels and an even pixel count, depthwise
    3x3 at strides 1 and 2, a 1x1 read in place from a channel count that is no multiple of
    4, a 3x3 with an odd pixel count and a map smaller than the cores (3x3, its taps of
    whole words from the tap table), then 2x2 and 1x1 maps (taps of bytes): (cin, 11, 9)
    images."""

    def __init__(self, cin: int):
        super().__init__()
        self.stem = nn.Conv2d(cin, 33, 3, stride=2, padding=1)
        self.wide = nn.Conv2d(33, 35, 3, padding=1)
        self.dw = nn.Conv2d(35, 35, 3, padding=1, groups=35)
        self.pw = nn.Conv2d(35, 12, 1)
        self.odd = nn.Conv2d(12, 37, 3, stride=2, padding=1)
        self.dw2 = nn.Conv2d(37, 37, 3, stride=2, padding=1, groups=37)
        self.small = nn.Conv2d(37, 10, 3, padding=1)
        self.last = nn.Conv2d(10, 10, 3, stride=2, padding=1)

    def forward(self, x):
        x = torch.relu(self.wide(torch.relu(self.stem(x))))
        x = self.pw(torch.relu(self.dw(x)))
        x = self.dw2(torch.relu(self.odd(x)))
        return torch.flatten(self.last(self.small(x)), 1)


@pytest.mark.parametrize("cin", [1, 3])
def test_convolution_shape_families_on_every_target(tmp_path, cin):
    """int8, xcv and rv32 kernels: bit-exact on the RTL and QEMU at 1 and 8 cores and on
    the host; xcv also with a side list of outliers (the kernels' other form)."""
    torch.manual_seed(cin)
    path = save_model(ConvFamilies(cin).eval(), torch.zeros(1, cin, 11, 9), "onnx_legacy",
                      tmp_path / "model", dynamic_time=False)
    data = (np.random.default_rng(cin).standard_normal((5, cin, 11, 9)) + 0.3).astype(np.float32)
    np.save(tmp_path / "calib.npy", data)
    for isa, options in (("xcv", {}), ("xcv", {"weight_outliers": 0.02}), ("rv32", {})):
        out = tmp_path / f"{isa}{len(options)}"
        export(path, tmp_path / "calib.npy", out, precision="int8", cores=8, isa=isa, **options)
        kinds = [layer.kind for layer in QGraph.load(out).layers]
        assert kinds.count("conv2d") == 6 and kinds.count("depthwise_conv2d") == 2, kinds
        targets = [("rtl", 1), ("rtl", 8), ("host", 3)] + (
            [("qemu", 1), ("qemu", 8)] if not options else [])
        for target, cores in targets:
            summary = verify(out, target, data[:2], cores=cores)
            assert summary["compared_bytes"] == 20 and summary["mismatched_bytes"] == 0, summary


class DepthwiseColumns(nn.Module):
    """The forms of the int8 depthwise 3x3 kernel's column loops: column pairs whose
    height leaves 1 and 2 outputs after the loop of three (7 and 5 rows; 0 in the shape
    families' test), pairs at vertical stride 2, pairs of 2 and of 1 output, single
    columns (an odd width, horizontal stride 2), 1-row maps, a 1x1 map (the pixel loop)
    and, from a one-column image, a plane of one column; ReLU on some layers, so the
    clamp is not always the int8 range."""

    def __init__(self, channels: int):
        super().__init__()

        def dw(stride=1, padding=1):
            return nn.Conv2d(channels, channels, 3, stride=stride, padding=padding,
                             groups=channels)
        self.layers = nn.ModuleList([
            dw(), dw(padding=(0, 1)), dw(padding=(2, 1)), dw(stride=(2, 1)),
            dw(padding=(0, 1)), dw(stride=(1, 2)), dw(stride=2), dw(), dw(stride=2)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = torch.relu(x) if i % 2 else x
        return torch.flatten(x, 1)


@pytest.mark.parametrize("image", [(7, 5), (7, 1)])
def test_depthwise_column_forms_on_the_rtl(tmp_path, image):
    """Every form of the depthwise column loops, xcv on the RTL at 1 and 8 cores and rv32
    on QEMU at 8 cores: every layer bit-exact."""
    torch.manual_seed(image[1])
    channels = 6
    path = save_model(DepthwiseColumns(channels).eval(), torch.zeros(1, channels, *image),
                      "onnx_legacy", tmp_path / "model", dynamic_time=False)
    data = np.random.default_rng(image[1]).standard_normal((5, channels, *image))
    np.save(tmp_path / "calib.npy", data.astype(np.float32))
    for isa, targets in (("xcv", [("rtl", 1), ("rtl", 8)]), ("rv32", [("qemu", 8)])):
        out = tmp_path / isa
        export(path, tmp_path / "calib.npy", out, precision="int8", cores=8, isa=isa)
        layers = QGraph.load(out).layers
        assert [layer.kind for layer in layers].count("depthwise_conv2d") == 9
        for target, cores in targets:
            # every layer's output, not only the model's: the last layers read a few of
            # the first layers' rows
            summary = verify(out, target, data[:2].astype(np.float32), cores=cores,
                             dump_layers=True)
            assert summary["mismatched_bytes"] == 0 and summary["first_difference"] is None, (
                summary)


def _verify_layers_on_rtl_and_qemu(path, data, check) -> None:
    """Export for xcv and rv32, run `check` on each export's layers, then verify every
    layer's output (dump_layers, not only the model's) on the RTL at 1 and 8 cores (xcv)
    and on QEMU at 8 cores (rv32)."""
    calib = path.parent / "calib.npy"
    np.save(calib, data)
    for isa, targets in (("xcv", [("rtl", 1), ("rtl", 8)]), ("rv32", [("qemu", 8)])):
        out = path.parent / isa
        export(path, calib, out, precision="int8", cores=8, isa=isa)
        check(QGraph.load(out).layers)
        for target, cores in targets:
            summary = verify(out, target, data[:1], cores=cores, dump_layers=True)
            assert summary["mismatched_bytes"] == 0 and summary["first_difference"] is None, (
                summary)


def _depthwise(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride=stride, padding=1, groups=channels)


def test_depthwise_gathering_forms_on_the_rtl(tmp_path):
    """Both ways of gathering planes: one channel at a time (a 20x30 map, whose plane is
    too large for four per core) and four at a time (then 10x15: groups of four columns
    and 3 left over), with 40 channels, so that on 8 cores each core's four start at a
    channel that is not a multiple of 4 (loads at any alignment) and one channel is left
    for the one-at-a-time gathering. Then stride-2 layers whose columns hold 5, 3 and 2
    outputs, with the 10 of the first: every form of the stride-2 column loop (the loop
    of three, and 0, 1 or 2 outputs after it). xcv on the RTL at 1 and 8 cores and rv32
    on QEMU at 8 cores: every layer bit-exact."""
    torch.manual_seed(3)
    channels = 40
    model = nn.Sequential(*[_depthwise(channels, stride) for stride in (2, 1, 2, 2, 2)])
    path = save_model(model.eval(), torch.zeros(1, channels, 20, 30), "onnx_legacy",
                      tmp_path / "model", dynamic_time=False)
    depthwise = op("depthwise_conv2d")

    def check(layers):
        assert [depthwise.planes(layer.params) for layer in layers] == [1, 8, 8, 24, 40]
        assert all(depthwise.requant_mul(layer) for layer in layers)
    data = np.random.default_rng(3).standard_normal((4, channels, 20, 30)).astype(np.float32)
    _verify_layers_on_rtl_and_qemu(path, data, check)


@pytest.mark.parametrize("long_channel", [False, True])
def test_depthwise_small_maps_on_the_rtl(tmp_path, long_channel):
    """Small maps, with 37 channels (chunks of 37 on one core, of 4 or 5 on 8): a 4x4
    map at stride 1 and at stride 2, whose chunks go through one loop each
    (mcuq_dw3_channels_s8 on xcv; a gathering of four and of one); then maps that fit in
    a word (the map kernel): 2x2 at stride 1 (4 outputs a channel) and 2 (1 output),
    through one loop over a core's channels on xcv (mcuq_dw_map_channels_s8), and a 1x1
    map (its C loop). With a long multiplier in the first 4x4 layer and the 2x2 one (a
    channel of near-zero weights): the 4x4 chunk goes channel by channel instead, the 2x2
    layer through the C loop with the general requantization. xcv on the RTL at 1 and 8
    cores and rv32 on QEMU at 8 cores: every layer bit-exact."""
    torch.manual_seed(4)
    channels = 37
    model = nn.Sequential(_depthwise(channels, 1), nn.ReLU(), _depthwise(channels, 2),
                          _depthwise(channels, 1), _depthwise(channels, 2),
                          _depthwise(channels, 1), nn.ReLU())
    if long_channel:
        with torch.no_grad():
            model[0].weight[5] *= 1e-4
            model[3].weight[5] *= 1e-4
    path = save_model(model.eval(), torch.zeros(1, channels, 4, 4), "onnx_legacy",
                      tmp_path / "model", dynamic_time=False)
    depthwise = op("depthwise_conv2d")

    def check(layers):
        assert [(layer.params["out_h"], depthwise.planes(layer.params), depthwise.map_path(layer))
                for layer in layers] == [(4, 40, False), (2, 40, False), (2, 1, True),
                                         (1, 1, True), (1, 1, True)]
        assert [depthwise.requant_mul(layer) for layer in layers] == (
            [1, 2, 1, 2, 2] if long_channel else [2] * 5)
        assert [bool(layer.arrays["shift"][5] > 31) for layer in layers[:3]] == [
            long_channel, False, long_channel]
    data = np.random.default_rng(4).standard_normal((4, channels, 4, 4)).astype(np.float32)
    _verify_layers_on_rtl_and_qemu(path, data, check)


def test_depthwise_stride_2_channel_loops_on_the_rtl(tmp_path):
    """Stride-2 layers on small maps, whose chunks of channels go through one loop each
    (mcuq_dw3_channels_s8): 8x14 -> 4x7 -> 2x4 -> 1x2, an unrolled column of 4, 2 and 1
    outputs (3 in the gathering forms' test), with 21 channels (chunks of 21 on one core,
    of 2 or 3 on 8). xcv on the RTL at 1 and 8 cores and rv32 on QEMU at 8 cores: every
    layer bit-exact."""
    torch.manual_seed(5)
    channels = 21
    model = nn.Sequential(*[_depthwise(channels, 2) for _ in range(3)])
    path = save_model(model.eval(), torch.zeros(1, channels, 8, 14), "onnx_legacy",
                      tmp_path / "model", dynamic_time=False)
    depthwise = op("depthwise_conv2d")

    def check(layers):
        assert [(layer.params["out_h"], layer.params["out_w"]) for layer in layers] == [
            (4, 7), (2, 4), (1, 2)]
        assert all(depthwise.requant_mul(layer) and depthwise.plane_path(layer.params)
                   for layer in layers)
    data = np.random.default_rng(5).standard_normal((4, channels, 8, 14)).astype(np.float32)
    _verify_layers_on_rtl_and_qemu(path, data, check)


@pytest.mark.parametrize("groups,out_channels", [(5, 5), (1, 16)])
def test_channel_with_a_long_multiplier_takes_the_general_requantization(tmp_path, groups,
                                                                          out_channels):
    """A channel beside ordinary ones that the fast requantization does not take. In a
    depthwise layer: near-zero weights, so a short multiplier would keep too few bits and
    the export keeps its long one (shift above 31); it goes row by row with the general
    requantization while the others go down the column loops with `mul`. In a convolution
    (two blocks of 8 channels): large weights that cancel on the calibration images, so
    its shift is 32 or less, and its share takes the general requantization instead of
    the one-mulh form.
    Bit-exact on the RTL (xcv) and QEMU (rv32) at 8 cores."""
    channels = 5
    torch.manual_seed(0)
    conv = nn.Conv2d(channels, out_channels, 3, groups=groups)
    depthwise = groups == channels
    with torch.no_grad():
        if depthwise:
            conv.weight[0] *= 1e-4
        else:
            conv.weight[0] = 0.0
            conv.weight[0, 0, 0, :2] = torch.tensor([50.0, -50.0])
    path = save_model(conv.eval(), torch.zeros(1, channels, 8, 6), "onnx_legacy",
                      tmp_path / "model", dynamic_time=False)
    rng = np.random.default_rng(0)
    calib = rng.standard_normal((5, channels, 8, 6)).astype(np.float32)
    if not depthwise:
        calib[:, 0] = 1.0
    np.save(tmp_path / "calib.npy", calib)
    data = rng.standard_normal((2, channels, 8, 6)).astype(np.float32)
    for isa, target in (("xcv", "rtl"), ("rv32", "qemu")):
        out = tmp_path / isa
        export(path, tmp_path / "calib.npy", out, precision="int8", cores=8, isa=isa)
        layer = QGraph.load(out).layers[0]
        shift = np.asarray(layer.arrays["shift"])
        if depthwise:
            assert shift[0] > 31 and all(s <= 31 for s in shift[1:]), shift
            assert op("depthwise_conv2d").requant_mul(layer) == 1
        else:
            assert shift[0] <= 32 and all(32 < s <= 54 for s in shift[1:]), shift
        summary = verify(out, target, data, cores=8)
        assert summary["compared_bytes"] > 0 and summary["mismatched_bytes"] == 0, summary


def test_scalar_kernels_are_bit_exact_on_the_rtl(tmp_path):
    """The rv32 kernels, the bench's scalar baseline, on the same core."""
    out, frames = _export(tmp_path, "recurrent", "rv32")
    for cores in (1, 8):
        assert verify(out, "rtl", frames, cores=cores)["mismatched_bytes"] == 0


def test_fp16_layers_are_refused_on_the_rtl(tmp_path):
    out, frames = _export(tmp_path, "vector", "xcv")
    export(tmp_path / "model.onnx", tmp_path / "calib.npy", tmp_path / "mixed",
           precision="fp16", isa="xcv")
    from mcuq.errors import McuqError
    with pytest.raises(McuqError, match="no FPU"):
        verify(tmp_path / "mixed", "rtl", frames)


def test_simd_blocks_layout():
    """Row g's weights 4c .. 4c + 3 are word g of chunk c; the tail is zero-padded."""
    w = np.arange(2 * 3 * 6, dtype=np.int8).reshape(6, 6)  # 2 blocks of 3 rows, k = 6
    laid = simd_blocks(w, 3)
    assert laid.shape == (2, 2, 3, 4)
    for block in range(2):
        for g in range(3):
            row = w[block * 3 + g]
            np.testing.assert_array_equal(laid[block, 0, g], row[:4])
            np.testing.assert_array_equal(laid[block, 1, g], [row[4], row[5], 0, 0])


HWLOOP_BODY = """
#include "mcuq_isa.h"
int32_t f(const int8_t *w, const int8_t *x, int32_t words) {
    int32_t acc = 0;
    __asm__ volatile(MCUQ_HWLOOP0("%[n]", BODY)
                     : [acc] "+r"(acc), [w] "+r"(w), [x] "+r"(x) : [n] "r"(words)
                     : "t0", "t1", "memory");
    return acc;
}
"""


@pytest.mark.parametrize("body,ok", [
    ('MCUQ_LW("t0", "%[w]", "4"), MCUQ_LW("t1", "%[x]", "4"), MCUQ_SDOT("%[acc]", "t0", "t1")',
     True),
    # two instructions in one argument: the count would be one short
    ('MCUQ_LW("t0", "%[w]", "4") MCUQ_LW("t1", "%[x]", "4"), MCUQ_SDOT("%[acc]", "t0", "t1")',
     False),
])
def test_a_wrong_hardware_loop_length_does_not_build(tmp_path, body, ok):
    src = tmp_path / "loop.c"
    src.write_text(HWLOOP_BODY.replace("BODY", body))
    kernels = ROOT / "firmware" / "kernels"
    result = subprocess.run(
        RTL_CLANG + [f"-I{kernels}", f"-I{kernels / 'xcv'}", f"-I{kernels / 'rv32'}", "-c",
                     str(src), "-o", str(tmp_path / "loop.o")], capture_output=True, text=True)
    assert (result.returncode == 0) == ok, result.stderr
    if not ok:
        assert "hardware loop body is not one instruction per argument" in result.stderr


def test_rtl_bench_reports_cycles_beside_the_scalar_kernels(tmp_path):
    """bench --target rtl keeps the QEMU bench's keys and adds cycles, MACs per cycle and
    the rv32 kernels' cycles of the same model; a split costs no more than one core."""
    from mcuq.bench import bench_rtl

    out, frames = _export(tmp_path, "vector", "xcv")
    result = bench_rtl(out, [1, 8], frames)
    for key in ("critical_path_instructions", "speedup", "macs_per_instruction",
                "critical_path_cycles", "macs_per_cycle", "simd_gain"):
        assert set(result[key]) == {"1", "8"}, key
    assert set(result["realtime"]["load"]) == {"1", "8"}
    assert result["isa"] == "xcv" and result["scalar"]["isa"] == "rv32"
    linear = [row for row in result["layers"] if row["kind"] == "linear"]
    for row in linear:
        assert set(row) >= {"cycles", "macs_per_cycle", "scalar_cycles", "simd_gain"}
        # one core's share of an 8-way split is never slower than the whole layer
        assert 0 < row["cycles"]["8"] <= row["cycles"]["1"]
    # the SIMD kernels of the linear layers take fewer cycles than the scalar ones
    assert all(row["simd_gain"]["1"] > 1 for row in linear)

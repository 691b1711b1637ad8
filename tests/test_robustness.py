"""Bit errors in weight memory (mcuq.bit_errors, mcuq robustness): the injector flips the
expected bits, reproducibly; a flipped model's C equals its simulator on host, QEMU and
the RTL; the sweep scores classifiers and speech models; bad input is refused."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from conftest import save_model
from mcuq import bit_errors
from mcuq.export import export
from mcuq.qgraph import QGraph
from mcuq.simulate import Simulator
from mcuq.verify import verify

MCUQ = [sys.executable, "-m", "mcuq.cli"]


class Classifier(nn.Module):
    """Conv (odd channels) + ReLU -> global pool -> Linear: 7 classes of 1x9x9 images."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 5, 3, padding=1)
        self.fc = nn.Linear(5 * 9 * 9, 7)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A classifier, 40 labelled images (labels: the float model's own answers) and its
    int8, 4-bit and fp16 exports."""
    tmp = tmp_path_factory.mktemp("robust")
    torch.manual_seed(4)
    model = Classifier().eval()
    images = np.random.default_rng(3).uniform(0, 1, (40, 1, 9, 9)).astype(np.float32)
    with torch.no_grad():
        labels = model(torch.from_numpy(images)).argmax(1).numpy()
    path = save_model(model, torch.zeros(1, 1, 9, 9), "onnx_legacy", tmp / "net",
                      dynamic_time=False)
    np.save(tmp / "calib.npy", images[:16])
    np.savez(tmp / "test.npz", x=images, labels=labels)
    for name, options in (("int8", {}), ("w4", {"weight_bits": 4}),
                          ("fp16", {"precision": "fp16"})):
        export(path, tmp / "calib.npy", tmp / name, cores=8, **options)
    return tmp


def stored_diff_bits(a, b, bits):
    width = np.uint16 if a.dtype == np.float16 else np.uint8
    diff = (a.view(width) ^ b.view(width)) & ((1 << bits) - 1)
    return np.unpackbits(diff.reshape(-1).view(np.uint8), bitorder="little").reshape(
        -1, 16 if width is np.uint16 else 8)[:, :bits]


@pytest.mark.parametrize("name", ["int8", "w4", "fp16"])
def test_the_injector_flips_the_expected_bits_reproducibly(classifier, name):
    q = QGraph.load(classifier / name)
    sites = bit_errors.sites(q)
    assert [(q.layers[s.layer].name, s.key) for s in sites] == [("conv2d0", "weight"),
                                                                 ("linear0", "weight")]
    assert {s.bits for s in sites} == {{"int8": 8, "w4": 4, "fp16": 16}[name]}
    total = sum(s.total_bits for s in sites)
    rate = 0.01
    flipped, count = bit_errors.flipped(q, sites, seed=7, pattern=2, rate=rate)
    assert bit_errors.flipped_bits(q, flipped, sites) == count
    # the count of a Bernoulli(p) draw over every stored bit: within 5 sigma of p x bits
    assert abs(count - rate * total) < 5 * np.sqrt(rate * (1 - rate) * total)
    again, _ = bit_errors.flipped(q, sites, seed=7, pattern=2, rate=rate)
    other, _ = bit_errors.flipped(q, sites, seed=7, pattern=3, rate=rate)
    lower, lower_count = bit_errors.flipped(q, sites, seed=7, pattern=2, rate=rate / 4)
    assert 0 < lower_count < count
    for s in sites:
        key, i = s.key, s.layer
        before, after = q.layers[i].arrays[key], flipped.layers[i].arrays[key]
        assert np.array_equal(after.view(np.uint8), again.layers[i].arrays[key].view(np.uint8))
        hit = stored_diff_bits(before, after, s.bits)
        assert hit.sum() == bit_errors.positions(sites.index(s), s, 7, 2, rate).size
        # a lower rate of the same pattern flips a subset of the same bits
        assert not (stored_diff_bits(before, lower.layers[i].arrays[key], s.bits) & ~hit).any()
        if name == "w4":  # a 4-bit code stays a 4-bit code
            assert after.min() >= -8 and after.max() <= 7
    assert any(not np.array_equal(flipped.layers[s.layer].arrays[s.key],
                                  other.layers[s.layer].arrays[s.key]) for s in sites)
    assert q.layers[0].arrays["weight"] is not flipped.layers[0].arrays["weight"]  # a copy


def test_flip_array_known_answers():
    a = np.array([0, 1, -1, 127], np.int8)
    # bit 7 of 0 -> -128; bits 0 and 1 of 1 -> 2; bit 0 of -1 -> -2; nothing on 127
    assert bit_errors.flip_array(a, 8, np.array([7, 8, 9, 16])).tolist() == [-128, 2, -2, 127]
    w4 = np.array([7, -8, 3], np.int8)  # 4-bit codes; bit 3 is the sign
    assert bit_errors.flip_array(w4, 4, np.array([3, 7, 8])).tolist() == [-1, 0, 2]
    h = np.array([1.0, 1.0], np.float16)  # bit 15 is the sign, bit 14 the exponent's top
    out = bit_errors.flip_array(h, 16, np.array([15, 16 + 14]))
    assert out[0] == -1.0 and np.isinf(out[1])
    o = np.array([300, -7], np.int16)  # 11-bit outlier codes; bit 10 is the sign
    assert bit_errors.flip_array(o, 11, np.array([10, 11 + 3])).tolist() == [300 - 1024, -15]


@pytest.mark.parametrize("name", ["int8", "fp16"])
def test_a_flipped_models_c_equals_its_simulator(classifier, tmp_path, name):
    out = tmp_path / "flipped"
    run = subprocess.run(MCUQ + ["robustness", str(classifier / name), "--ber", "0.02",
                                 "--write-firmware", "1", "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    q, clean = QGraph.load(out), QGraph.load(classifier / name)
    errors = q.meta["bit_errors"]
    assert errors["flipped_bits"] > 0 and errors["rate"] == 0.02 and errors["pattern"] == 1
    expected, count = bit_errors.flipped(clean, bit_errors.sites(clean), 0, 1, 0.02)
    assert count == errors["flipped_bits"]
    for a, b in zip(q.layers, expected.layers):
        for key in a.arrays:
            assert np.array_equal(a.arrays[key].view(np.uint8), b.arrays[key].view(np.uint8))
    images = np.load(classifier / "test.npz")["x"][:6]
    frames = images if name == "int8" else images * 40  # fp16: large inputs for inf and NaN
    outputs = [Simulator(g).run_device(Simulator(g).quantize_input(frames[:, None]))
               for g in (q, clean)]
    assert not np.array_equal(outputs[0], outputs[1])  # the flips change what it computes
    for target, cores in (("host", 1), ("qemu", 1), ("qemu", 8)):
        summary = verify(out, target, frames, cores=cores)
        assert summary["bit_exact"] and summary["compared_bytes"] > 0, (target, cores, summary)


def test_a_flipped_xcv_model_on_the_rtl(classifier, tmp_path):
    export(classifier / "net.onnx", classifier / "calib.npy", tmp_path / "xcv", isa="xcv",
           cores=8)
    out = tmp_path / "flipped"
    from mcuq.robustness import write_flipped_export

    assert write_flipped_export(tmp_path / "xcv", out, 0.01, 0, seed=5) > 0
    frames = np.load(classifier / "test.npz")["x"][:2]
    for cores in (1, 8):
        summary = verify(out, "rtl", frames, cores=cores)
        assert summary["bit_exact"], (cores, summary)


def test_sweep_scores_top1_error_in_parallel(classifier, tmp_path):
    run = subprocess.run(MCUQ + ["robustness", str(classifier / "int8"), str(classifier / "w4"),
                                 "--data", str(classifier / "test.npz"), "--ber", "1e-3,0.2",
                                 "--patterns", "3", "--jobs", "2", "-o", str(tmp_path / "r")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "r" / "results.json").read_text())
    assert (tmp_path / "r" / "curve.png").stat().st_size > 1000
    assert "| 0.2 |" in (tmp_path / "r" / "results.md").read_text()
    assert [m["label"] for m in result["models"]] == ["int8", "w4"]
    images = np.load(classifier / "test.npz")
    for model in result["models"]:
        q = QGraph.load(classifier / model["label"])
        logits = Simulator(q).run(images["x"][:, None])[:, 0]
        assert model["clean"] == 100 * (logits.argmax(1) != images["labels"]).mean()
        assert model["metric"] == "top1-error" and model["items"] == 40
        low, high = model["rates"]
        assert len(high["scores"]) == 3 and len(set(high["flipped_bits"])) > 1
        assert high["mean"] > model["clean"] + 20  # a fifth of the bits flipped ruins it
        # the same pattern at a rate, rerun alone, gives the same score (seeded, no state)
        sites = bit_errors.sites(q)
        flipped, _ = bit_errors.flipped(q, sites, 0, 1, 0.2)
        logits = Simulator(flipped).run(images["x"][:, None])[:, 0]
        assert high["scores"][1] == 100 * (logits.argmax(1) != images["labels"]).mean()


def test_sweep_scores_speech(examples_dir, tmp_path):
    from mcuq.speech.corpus import generate

    generate(tmp_path / "corpus", {"train": 0, "calib": 0, "test": 2}, seed=2)
    export(examples_dir / "models" / "gru_small.onnx", examples_dir / "data" / "calib_small.npy",
           tmp_path / "gru")
    run = subprocess.run(MCUQ + ["robustness", str(tmp_path / "gru"), "--data",
                                 str(tmp_path / "corpus"), "--metric", "si-sdr", "--ber", "0.05",
                                 "--patterns", "2", "-o", str(tmp_path / "r")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    model = json.loads((tmp_path / "r" / "results.json").read_text())["models"][0]
    assert model["metric"] == "si-sdr" and model["items"] == 2 and model["higher_is_better"]
    assert np.isfinite(model["clean"]) and model["rates"][0]["mean"] < model["clean"]


@pytest.mark.parametrize("args, phrase", [
    (["--ber", "0"], "outside (0, 0.5]"),
    (["--ber", "0.7"], "outside (0, 0.5]"),
    (["--ber", "nan"], "outside (0, 0.5]"),
    (["--ber", "often"], "comma-separated probabilities"),
    (["--patterns", "0"], "at least one bit error pattern"),
    ([], "needs evaluation data"),
    (["--metric", "pesq"], "scores enhanced speech"),
    (["--write-firmware", "0", "--ber", "1e-3,1e-2"], "one --ber rate"),
])
def test_bad_input_is_one_line_and_writes_nothing(classifier, tmp_path, args, phrase):
    data = ["--data", str(classifier / "test.npz")] if args[:1] in (["--ber"], ["--patterns"],
                                                                     ["--metric"]) else []
    run = subprocess.run(MCUQ + ["robustness", str(classifier / "int8"), *data, *args,
                                 "-o", str(tmp_path / "r")], capture_output=True, text=True)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcuq: error: ") and phrase in lines[0], \
        run.stderr
    assert not (tmp_path / "r").exists()


def test_an_export_without_weights_in_memory_is_refused(classifier, tmp_path):
    export(classifier / "net.onnx", classifier / "calib.npy", tmp_path / "ref",
           precision="fp32-ref")
    run = subprocess.run(MCUQ + ["robustness", str(tmp_path / "ref"), "--data",
                                 str(classifier / "test.npz"), "-o", str(tmp_path / "r")],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "fp32-ref" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "r").exists()

"""Speech enhancement: STFT, the generated corpus, enhance (simulator == firmware), eval."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from mcuq.errors import McuqError
from mcuq.export import export
from mcuq.speech import audio
from mcuq.speech.corpus import find_pairs, generate
from mcuq.speech.evaluate import evaluate, si_sdr, write_results

MCUQ = [sys.executable, "-m", "mcuq.cli"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    manifest = generate(root, {"train": 4, "calib": 2, "test": 3}, seed=5)
    return root, manifest


def test_stft_round_trip_is_exact():
    x = np.random.default_rng(0).standard_normal(12345) * 0.1
    spectrum = audio.stft(x)
    assert spectrum.shape == (1 + 12345 // audio.HOP, audio.BINS)
    assert np.max(np.abs(audio.istft(spectrum, x.size) - x)) < 1e-12
    assert np.max(np.abs(audio.apply_mask(spectrum, np.ones(spectrum.shape), x.size) - x)) < 1e-12


def test_corpus_layout_and_disjoint_splits(corpus):
    root, manifest = corpus
    texts = {split: {e["text"] for e in entries} for split, entries in manifest["splits"].items()}
    assert not texts["train"] & texts["test"] and not texts["calib"] & texts["test"]
    assert not texts["train"] & texts["calib"]
    for split, count in (("train", 4), ("calib", 2), ("test", 3)):
        pairs = find_pairs(root, split)
        assert len(pairs) == count
        for noisy, clean in pairs:
            n, rate = soundfile.read(noisy)
            c, _ = soundfile.read(clean)
            assert rate == 16000 and n.shape == c.shape and n.ndim == 1
    snrs = [e["snr_db"] for entries in manifest["splits"].values() for e in entries]
    assert all(-5 <= s <= 15 for s in snrs)


def test_missing_split_is_explained(tmp_path):
    with pytest.raises(McuqError, match="clean_<split>set_wav"):
        find_pairs(tmp_path, "test")


@pytest.fixture(scope="module")
def speech_export(examples_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("speech") / "out"
    export(examples_dir / "models" / "gru_small.onnx", examples_dir / "data" / "calib_small.npy",
           out, precision="mixed", cores=4)
    return out


def test_enhance_simulator_equals_firmware(corpus, speech_export, tmp_path):
    root, _ = corpus
    noisy, _ = find_pairs(root, "test")[0]
    short = tmp_path / "short.wav"  # 0.5 s
    soundfile.write(short, soundfile.read(noisy)[0][:8000], 16000, subtype="PCM_16")
    outs = {}
    for target in ("sim", "qemu"):
        outs[target] = tmp_path / f"{target}.wav"
        run = subprocess.run(MCUQ + ["enhance", str(short), "-m", str(speech_export), "-o",
                                     str(outs[target]), "--target", target],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    assert outs["sim"].read_bytes() == outs["qemu"].read_bytes()
    enhanced, rate = soundfile.read(outs["sim"])
    assert rate == 16000 and enhanced.shape == (8000,)


@pytest.mark.parametrize("make,phrase", [
    (lambda p: soundfile.write(p, np.zeros(16000), 48000), "48000 Hz"),
    (lambda p: soundfile.write(p, np.zeros((16000, 2)), 16000), "2 channels"),
    (lambda p: soundfile.write(p, np.zeros(0), 16000), "empty"),
    (lambda p: p.write_bytes(b"RIFF not really a wav"), "not a readable audio file"),
    (lambda p: None, "audio file not found"),
])
def test_bad_audio_is_refused(speech_export, tmp_path, make, phrase):
    wav = tmp_path / "in.wav"
    make(wav)
    run = subprocess.run(MCUQ + ["enhance", str(wav), "-m", str(speech_export), "-o",
                                 str(tmp_path / "out.wav")], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert phrase in run.stderr and run.stderr.startswith("mcuq: error:")
    assert not (tmp_path / "out.wav").exists()


def test_si_sdr():
    x = np.sin(np.arange(1000) * 0.1)
    assert si_sdr(x, 0.5 * x) > 100  # scale-invariant
    assert abs(si_sdr(x, x + x[::-1] * 0.1) - si_sdr(x, 3 * (x + x[::-1] * 0.1))) < 1e-9


def test_eval_table(corpus, examples_dir, tmp_path):
    root, _ = corpus
    result = evaluate(examples_dir / "models" / "lstm_small.onnx",
                      examples_dir / "data" / "calib_small.npy", root, "test", limit=2)
    t = result["table"]
    assert set(t) == {"noisy", "fp32", "fp16", "int8", "mixed"} and result["clips"] == 2
    assert t["fp32"]["delta_to_fp32"] == {"pesq": 0.0, "stoi": 0.0, "si_sdr": 0.0}
    for config in t:
        assert 1.0 <= t[config]["pesq"] <= 4.7 and 0.0 <= t[config]["stoi"] <= 1.0
    mem = {c: t[c]["weight_bytes"] for c in ("fp32", "fp16", "int8", "mixed")}
    assert mem["int8"] < mem["mixed"] < mem["fp16"] < mem["fp32"]
    write_results(result, tmp_path / "res", "test")
    doc = json.loads((tmp_path / "res" / "results.json").read_text())
    assert doc["table"]["mixed"]["weight_bytes"] == mem["mixed"]
    assert (tmp_path / "res" / "spectrograms.png").stat().st_size > 10000
    assert "| mixed |" in (tmp_path / "res" / "results.md").read_text()


def test_eval_subset_of_configurations(corpus, examples_dir, tmp_path):
    root, _ = corpus
    result = evaluate(examples_dir / "models" / "gru_small.onnx",
                      examples_dir / "data" / "calib_small.npy", root, "test", limit=1,
                      configs=["int8"])
    assert set(result["table"]) == {"noisy", "fp32", "int8"}
    assert result["weight_bytes"]["fp16"] > result["weight_bytes"]["mixed"]
    write_results(result, tmp_path / "res", "test")
    text = (tmp_path / "res" / "results.md").read_text()
    assert "| int8 |" in text and "| mixed |" not in text
    with pytest.raises(McuqError, match="unknown configuration int4"):
        evaluate(examples_dir / "models" / "gru_small.onnx",
                 examples_dir / "data" / "calib_small.npy", root, "test", limit=1,
                 configs=["int4"])


def test_train_speech_writes_matching_torchscript_and_onnx(corpus, examples_dir, tmp_path):
    """The training example's outputs: TorchScript and ONNX compute the same mask, and the
    ONNX file goes through mcuq export (the route the paper-size models take)."""
    import onnxruntime
    import torch

    root, _ = corpus
    out = tmp_path / "tiny"
    run = subprocess.run([sys.executable, str(examples_dir / "train_speech.py"), "--data", str(root),
                          "--kind", "lstm", "--hidden", "8", "--fc", "8", "--fc-out", "8",
                          "--steps", "3", "--batch", "2", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "done: 3 steps" in run.stdout
    calib = np.load(tmp_path / "tiny_calib.npy")
    assert calib.ndim == 3 and calib.shape[2] == audio.BINS
    x = calib[:1, :50]
    scripted = torch.jit.load(str(out.with_suffix(".pt")))(torch.from_numpy(x)).detach().numpy()
    session = onnxruntime.InferenceSession(str(out.with_suffix(".onnx")))
    onnx_out = session.run(None, {"features": x})[0]
    assert onnx_out.shape == (1, 50, audio.BINS)
    assert np.max(np.abs(onnx_out - scripted)) < 1e-5  # float vs float, not the quantized path
    export(out.with_suffix(".onnx"), tmp_path / "tiny_calib.npy", tmp_path / "exp",
           precision="mixed")
    layers = json.loads((tmp_path / "exp" / "model.json").read_text())["layers"]
    precision = {layer["kind"]: layer["params"]["precision"] for layer in layers}
    assert precision["lstm"] == "int8" and precision["linear"] == "fp16"


def test_train_speech_fine_tunes_an_export_with_clipped_weights(corpus, examples_dir, tmp_path):
    """--init starts from an export's weights (the step-0 model is that model: its mask
    equals ONNX Runtime's on the file), and --w-max keeps every weight matrix within the
    bound."""
    import onnx
    import onnxruntime
    from onnx import numpy_helper

    root, _ = corpus
    args = [sys.executable, str(examples_dir / "train_speech.py"), "--data", str(root), "--kind",
            "gru", "--hidden", "6", "--fc", "5", "--fc-out", "7", "--batch", "2"]
    first = subprocess.run(args + ["--steps", "2", "--out", str(tmp_path / "a")],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    same = subprocess.run(args + ["--steps", "1", "--lr", "0", "--init", str(tmp_path / "a.onnx"),
                                  "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=300)
    assert same.returncode == 0, same.stderr
    x = np.load(tmp_path / "a_calib.npy")[:1, :20]
    outs = [onnxruntime.InferenceSession(str(tmp_path / f"{n}.onnx")).run(None, {"features": x})[0]
            for n in ("a", "b")]
    assert np.max(np.abs(outs[0] - outs[1])) < 1e-6  # lr 0: the loaded weights, unchanged
    clipped = subprocess.run(args + ["--steps", "2", "--w-max", "0.05", "--init",
                                     str(tmp_path / "a.onnx"), "--out", str(tmp_path / "c")],
                             capture_output=True, text=True, timeout=300)
    assert clipped.returncode == 0, clipped.stderr
    for init in onnx.load(str(tmp_path / "c.onnx")).graph.initializer:
        value = numpy_helper.to_array(init)
        if value.ndim == 3 or "MatMul" in init.name:  # W, R and the linear weights, not B
            assert np.abs(value).max() <= 0.05 + 1e-7, init.name
    wrong = subprocess.run(args[:6] + ["--hidden", "4", "--fc", "5", "--fc-out", "7", "--steps",
                                       "1", "--init", str(tmp_path / "a.onnx"), "--out",
                                       str(tmp_path / "d")],
                           capture_output=True, text=True, timeout=300)
    assert wrong.returncode != 0 and "shape" in wrong.stderr and "Traceback" not in wrong.stderr

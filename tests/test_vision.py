"""The image application: bundled data sets, loaders for a user's images (class
folders of PNG/JPEG, CIFAR-10 binary, .npz), the RepVGG model bit-exact on host and QEMU
with and without CFWS, and `mcuq top1` against PyTorch."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mcuq.export import export
from mcuq.verify import verify
from mcuq.vision.datasets import digits, shapes
from mcuq.vision.loaders import CIFAR_RECORD, load_images
from mcuq.vision.models import RepVGG

RNG = np.random.default_rng(21)


def test_bundled_sets_are_deterministic_and_balanced():
    x, y = shapes("test", 200)
    x2, y2 = shapes("test", 200)
    assert x.shape == (200, 3, 32, 32) and np.array_equal(x, x2) and np.array_equal(y, y2)
    assert np.bincount(y).tolist() == [20] * 10 and 0 <= x.min() and x.max() <= 1
    d, dy = digits("test")
    assert d.shape == (400, 1, 32, 32) and set(dy.tolist()) == set(range(10))
    assert not np.array_equal(shapes("train", 50)[0], shapes("test", 50)[0])


def test_class_folders_of_png_and_jpeg(tmp_path):
    for label, name in enumerate(["cat", "dog"]):
        (tmp_path / name).mkdir()
        for i in range(3):
            pixels = RNG.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            suffix = ".png" if i % 2 else ".jpg"
            Image.fromarray(pixels).save(tmp_path / name / f"{i}{suffix}")
    x, labels, classes = load_images(str(tmp_path), size=16)
    assert x.shape == (6, 3, 16, 16) and classes == ["cat", "dog"]
    assert labels.tolist() == [0, 0, 0, 1, 1, 1] and 0 <= x.min() and x.max() <= 1


def test_cifar_binary_is_read_without_unpickling(tmp_path):
    labels = RNG.integers(0, 10, 5).astype(np.uint8)
    pixels = RNG.integers(0, 256, (5, 3072), dtype=np.uint8)
    records = np.concatenate([labels[:, None], pixels], axis=1)
    assert records.shape[1] == CIFAR_RECORD
    records.tofile(tmp_path / "data_batch_1.bin")
    x, got, classes = load_images(str(tmp_path / "data_batch_1.bin"))
    assert x.shape == (5, 3, 32, 32) and got.tolist() == labels.tolist() and classes[0] == "airplane"
    np.testing.assert_array_equal(x[2].reshape(-1), pixels[2] / np.float32(255.0))


def test_npz_channels_last_uint8(tmp_path):
    images = RNG.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", x=images, labels=np.arange(4))
    x, labels, classes = load_images(str(tmp_path / "d.npz"))
    assert x.shape == (4, 3, 32, 32) and labels.tolist() == [0, 1, 2, 3] and len(classes) == 4
    np.testing.assert_array_equal(x[1, 2], images[1, :, :, 2] / np.float32(255.0))


def small_repvgg(channels=3):
    torch.manual_seed(2)
    model = RepVGG(channels, 10, width=0.125, depths=(1, 2, 2, 1, 1))
    for m in model.modules():  # trained-looking BatchNorm statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("cfws", [False, True])
def test_repvgg_is_bit_exact_on_host_and_qemu(tmp_path, cfws):
    model = small_repvgg()
    path = tmp_path / "repvgg.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), path, dynamo=False)
    images, _ = shapes("train", 24)
    np.save(tmp_path / "calib.npy", images)
    report = export(path, tmp_path / "calib.npy", tmp_path / "out", cfws=cfws,
                    calib_method="kl-improved")
    kinds = [row["kind"] for row in report["layers"]]
    assert kinds.count("conv2d_cfws" if cfws else "conv2d") == 7, kinds
    for target in ("host", "qemu"):
        for cores in (1, 8):
            summary = verify(tmp_path / "out", target, images[:3], cores=cores)
            assert summary["bit_exact"] and summary["cores"] == cores, summary


def test_top1_command_against_pytorch(tmp_path):
    model = small_repvgg(channels=1)
    path = tmp_path / "repvgg.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, 32, 32),), path, dynamo=False)
    mcuq = [sys.executable, "-m", "mcuq.cli"]
    for split, limit in (("train", "32"), ("test", "60")):
        subprocess.run(mcuq + ["images", f"digits:{split}", "-o", str(tmp_path / f"{split}.npz"),
                               "--limit", limit], check=True, capture_output=True)
    run = subprocess.run(mcuq + ["top1", str(path), "--calib", str(tmp_path / "train.npz"),
                                 "--test", str(tmp_path / "test.npz"), "--configs",
                                 "int8,int8+mse+w6+cfws", "-o", str(tmp_path / "res")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "res" / "results.json").read_text())
    x, y = digits("test")
    with torch.no_grad():
        want = float((model(torch.from_numpy(x[:60])).argmax(1).numpy() == y[:60]).mean())
    rows = {r["config"]: r for r in result["rows"]}
    assert rows["fp32 (ONNX Runtime)"]["top1"] == want
    assert set(rows) == {"fp32 (ONNX Runtime)", "int8", "int8+mse+w6+cfws"}
    assert all(0.0 <= r["agreement"] <= 1.0 for r in result["rows"])

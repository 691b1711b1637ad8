"""Bad input: one line saying what is wrong, non-zero exit, no traceback, nothing half-written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import make_stack, random_sequences, save_model

MCUQ = [sys.executable, "-m", "mcuq.cli"]


def mcuq(*args, env=None, cwd=None):
    return subprocess.run(MCUQ + [str(a) for a in args], capture_output=True, text=True,
                          env=env, cwd=cwd)


def assert_user_error(run, *phrases):
    assert run.returncode != 0
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcuq: error: "), run.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("small")
    model = make_stack(3, 7, 5, [("gru", 3)], 7)
    path = save_model(model, torch.zeros(1, 12, 7), "onnx_legacy", tmp / "model")
    np.save(tmp / "calib.npy", random_sequences(2, 12, 7, seed=1))
    return tmp, path


def no_leftovers(parent: Path, name: str):
    return not any(p.name == name or p.name.startswith(f".{name}.") for p in parent.iterdir())


def test_missing_model_file(small, tmp_path):
    tmp, _ = small
    run = mcuq("export", tmp_path / "nope.onnx", "--calib", tmp / "calib.npy", "-o", tmp_path / "o")
    assert_user_error(run, "model file not found", "nope.onnx")
    assert no_leftovers(tmp_path, "o")


def test_corrupt_onnx(small, tmp_path):
    tmp, _ = small
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(os.urandom(300))
    run = mcuq("export", bad, "--calib", tmp / "calib.npy", "-o", tmp_path / "o")
    assert_user_error(run, "not a valid ONNX file")
    assert no_leftovers(tmp_path, "o")


def test_unsupported_op_names_op_and_node(small, tmp_path):
    tmp, _ = small
    model = torch.nn.Sequential(torch.nn.Linear(7, 7), torch.nn.GELU()).eval()
    path = save_model(model, torch.zeros(1, 12, 7), "onnx_legacy", tmp_path / "gelu")
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", tmp_path / "o")
    assert_user_error(run, "unsupported", "Gelu", "node '/1/Gelu'")
    assert no_leftovers(tmp_path, "o")


def test_calibration_shape_mismatch(small, tmp_path):
    _, path = small
    np.save(tmp_path / "wrong.npy", random_sequences(2, 12, 9, seed=1))
    run = mcuq("export", path, "--calib", tmp_path / "wrong.npy", "-o", tmp_path / "o")
    assert_user_error(run, "9 features", "has 7")
    np.save(tmp_path / "flat.npy", np.zeros((12, 7), np.float32))
    run = mcuq("export", path, "--calib", tmp_path / "flat.npy", "-o", tmp_path / "o")
    assert_user_error(run, "(time, features) sequence")
    assert no_leftovers(tmp_path, "o")


def test_missing_calibration_file(small, tmp_path):
    _, path = small
    run = mcuq("export", path, "--calib", tmp_path / "none.npy", "-o", tmp_path / "o")
    assert_user_error(run, "calibration data file not found")


def test_existing_output_directory_needs_force(small, tmp_path):
    """--force replaces an earlier export, never a folder of other things."""
    tmp, path = small
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out)
    assert_user_error(run, "already exists", "--force")
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out, "--force")
    assert_user_error(run, "not an mcuq export")
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    assert mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out).returncode == 1
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out, "--force")
    assert run.returncode == 0, run.stderr  # an empty folder may be replaced
    first = (out / "model.json").read_text()
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out, "--force", "--cores", "2")
    assert run.returncode == 0, run.stderr  # and so may an earlier export
    assert (out / "model.json").read_text() != first
    assert [p.name for p in tmp_path.iterdir()] == ["o"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~current_umask())


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_missing_rv32_toolchain_names_packages(small, tmp_path):
    tmp, path = small
    out = tmp_path / "o"
    assert mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out).returncode == 0
    bin_dir = tmp_path / "bin"  # a PATH with the host tools only
    bin_dir.mkdir()
    for tool in ("make", "gcc"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = dict(os.environ, PATH=str(bin_dir))
    run = mcuq("verify", out, "--target", "qemu", env=env)
    assert_user_error(run, "qemu-system-misc", "gcc-riscv64-unknown-elf", "clang-16",
                      "apt-get install")


def test_state_dict_is_recognised(small, tmp_path):
    tmp, _ = small
    sd = tmp_path / "weights.pt"
    torch.save(make_stack(0, 7, 5, [("gru", 3)], 7).state_dict(), sd)
    run = mcuq("export", sd, "--calib", tmp / "calib.npy", "-o", tmp_path / "o")
    assert_user_error(run, "state_dict", "torch.jit.save")
    assert no_leftovers(tmp_path, "o")


class Payload:
    """Unpickling this would create a marker file: mcuq must never do it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickled_module_is_refused_without_running_it(small, tmp_path):
    tmp, _ = small
    marker = tmp_path / "code-ran"
    evil = tmp_path / "module.pt"
    torch.save({"model": Payload(marker)}, evil)
    run = mcuq("export", evil, "--calib", tmp / "calib.npy", "-o", tmp_path / "o")
    assert_user_error(run, "pickled", "does not")
    assert not marker.exists()


def test_not_an_export_directory(tmp_path):
    run = mcuq("verify", tmp_path, "--target", "host")
    assert_user_error(run, "not an mcuq export directory")


def test_simulate_input_shape_mismatch(small, tmp_path):
    tmp, path = small
    out = tmp_path / "o"
    assert mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out).returncode == 0
    np.save(tmp_path / "x.npy", np.zeros((10, 4), np.float32))
    run = mcuq("simulate", out, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert_user_error(run, "4 features", "has 7")
    assert not (tmp_path / "y.npy").exists()


def test_core_count_out_of_range(small, tmp_path):
    tmp, path = small
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", tmp_path / "o", "--cores", 9)
    assert_user_error(run, "1 to 8 cores")
    assert no_leftovers(tmp_path, "o")


@pytest.mark.parametrize("content,phrase", [
    (None, "precision override file not found"),
    ("{not json", "not valid JSON"),
    ('["lstm0"]', "must map layer names or kinds"),
    ('{"conv7": "int8"}', "names 'conv7', which is no layer"),
    ('{"gru0": "int4"}', "use int8 or fp16"),
])
def test_bad_precision_file(small, tmp_path, content, phrase):
    tmp, path = small
    override = tmp_path / "precision.json"
    if content is not None:
        override.write_text(content)
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", tmp_path / "o",
               "--precision-file", override)
    assert_user_error(run, phrase)
    assert no_leftovers(tmp_path, "o")


def test_fp32_reference_has_no_c(small, tmp_path):
    tmp, path = small
    out = tmp_path / "ref"
    assert mcuq("export", path, "--calib", tmp / "calib.npy", "-o", out,
                "--precision", "fp32-ref").returncode == 0
    assert_user_error(mcuq("verify", out), "fp32-ref export has none")
    override = tmp_path / "precision.json"
    override.write_text('{"gru0": "int8"}')
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", tmp_path / "o",
               "--precision", "fp32-ref", "--precision-file", override)
    assert_user_error(run, "fp32-ref is the float reference")
    assert no_leftovers(tmp_path, "o")


def test_options_that_change_nothing_are_said_not_ignored(small, tmp_path):
    """--cfws on a model without convolutions and --weight-bits on an fp16 export still
    export, with a warning for each."""
    tmp, path = small
    run = mcuq("export", path, "--calib", tmp / "calib.npy", "-o", tmp_path / "o", "--cfws",
               "--weight-bits", "6", "--precision", "fp16")
    assert run.returncode == 0, run.stderr
    assert "warning: --cfws changed nothing" in run.stderr
    assert "warning: --weight-bits 6 changed nothing" in run.stderr

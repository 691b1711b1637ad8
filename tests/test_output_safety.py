"""Outputs are never half-written, never replace what is not mcuq's, and survive races and
signals: device nodes stay devices, --force refuses a folder holding anything an export
does not write, concurrent exports to one new path give one export and clear refusals,
SIGTERM leaves nothing, and a run killed by SIGKILL is cleaned up (or its earlier export
restored) by the next one."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import save_model
from mcuq.qgraph import QGraph

MCUQ = [sys.executable, "-m", "mcuq.cli"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("safety")
    torch.manual_seed(4)
    net = torch.nn.Sequential(torch.nn.Linear(11, 9), torch.nn.ReLU(), torch.nn.Linear(9, 5))
    path = save_model(net.eval(), torch.zeros(1, 11), "onnx_legacy", d / "m", dynamic_time=False)
    np.save(d / "calib.npy", np.random.default_rng(0).standard_normal((16, 11)).astype(np.float32))
    return path, d / "calib.npy"


def export_argv(model, out, *extra):
    path, calib = model
    return MCUQ + ["export", str(path), "--calib", str(calib), "-o", str(out), *extra]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_an_output_that_is_a_device_or_fifo_is_never_replaced(model, tmp_path):
    fifo = tmp_path / "fifo.npy"
    os.mkfifo(fifo)
    np.save(tmp_path / "x.npy", np.zeros((2, 11), np.float32))
    subprocess.run(export_argv(model, tmp_path / "out"), check=True, capture_output=True)
    for target in (fifo, Path("/dev/null")):
        run = subprocess.run(MCUQ + ["simulate", str(tmp_path / "out"), "--input",
                                     str(tmp_path / "x.npy"), "-o", str(target)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 1 and "would replace it" in run.stderr, run.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_force_never_deletes_a_folder_that_is_not_only_an_export(model, tmp_path):
    """A TensorFlow.js model folder has a model.json too."""
    tfjs = tmp_path / "tfjs"
    tfjs.mkdir()
    (tfjs / "model.json").write_text('{"format": "layers-model"}')
    (tfjs / "group1-shard1of1.bin").write_bytes(b"\0" * 64)
    (tfjs / "README.md").write_text("mine")
    run = subprocess.run(export_argv(model, tfjs, "--force"), capture_output=True, text=True)
    assert run.returncode == 1 and "group1-shard1of1.bin" in run.stderr, run.stderr
    assert sorted(p.name for p in tfjs.iterdir()) == ["README.md", "group1-shard1of1.bin", "model.json"]
    # an earlier export (with its verify results) is replaced
    out = tmp_path / "out"
    subprocess.run(export_argv(model, out), check=True, capture_output=True)
    subprocess.run(MCUQ + ["verify", str(out)], check=True, capture_output=True)
    subprocess.run(export_argv(model, out, "--force"), check=True, capture_output=True)
    assert QGraph.load(out).layers and not leftovers(tmp_path)


def test_concurrent_exports_to_one_new_path_give_one_export(model, tmp_path):
    out = tmp_path / "out"
    runs = [subprocess.Popen(export_argv(model, out), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    assert sum(code == 0 for code, _ in results) == 1, results
    for code, err in results:
        if code:
            assert err.startswith("mcuq: error: ") and err.count("\n") == 1, err
            assert "already exists" in err or "created by another run" in err
    assert QGraph.load(out).layers and not leftovers(tmp_path)


def wait_for_temporary(folder: Path, proc, timeout_s: float = 120) -> None:
    """Until the export has made its temporary directory (it is working)."""
    start = time.time()
    while not any(n.startswith(".out.tmp-") for n in leftovers(folder)):
        assert proc.poll() is None and time.time() - start < timeout_s
        time.sleep(0.02)


def test_sigterm_mid_export_leaves_nothing(model, tmp_path):
    proc = subprocess.Popen(export_argv(model, tmp_path / "out"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_temporary(tmp_path, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in proc.stderr.read()
    assert not (tmp_path / "out").exists() and not leftovers(tmp_path)


def test_what_sigkill_leaves_is_cleaned_or_restored_by_the_next_run(model, tmp_path):
    proc = subprocess.Popen(export_argv(model, tmp_path / "out"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    wait_for_temporary(tmp_path, proc)
    proc.kill()
    proc.wait(timeout=60)
    assert leftovers(tmp_path)  # a half-written folder, hidden
    subprocess.run(export_argv(model, tmp_path / "out"), check=True, capture_output=True)
    assert not leftovers(tmp_path)

    # killed between moving the earlier export aside and moving the new one in (where the
    # system has no atomic exchange): the next run puts the earlier export back first
    dead = 4_000_000  # above any pid in use here
    (tmp_path / "out").rename(tmp_path / f".out.old-{dead}")
    run = subprocess.run(export_argv(model, tmp_path / "out"), capture_output=True, text=True)
    assert run.returncode == 1 and "already exists" in run.stderr
    assert QGraph.load(tmp_path / "out").layers and not leftovers(tmp_path)


def test_an_output_made_by_another_run_meanwhile_is_not_replaced(tmp_path):
    """The race itself, made certain: another run's export appears while this one works."""
    from mcuq.errors import McuqError
    from mcuq.files import atomic_directory

    out = tmp_path / "out"
    with pytest.raises(McuqError, match="created by another run"):
        with atomic_directory(out, force=False) as tmp:
            (tmp / "model.json").write_text("mine")
            out.mkdir()
            (out / "model.json").write_text("theirs")
    assert (out / "model.json").read_text() == "theirs" and not leftovers(tmp_path)
    with atomic_directory(out, force=True) as tmp:  # with --force: exchanged in one step
        (tmp / "model.json").write_text("mine")
    assert (out / "model.json").read_text() == "mine" and not leftovers(tmp_path)

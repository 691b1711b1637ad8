"""The wheel is the product a user installs: it must hold every template and firmware file
of the checkout, and an installed mcuq must export and verify (`--isa xcv` included) from a
folder outside the checkout, with nothing read from the checkout."""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import torch

from conftest import save_model

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "mcuq", "codegen", "templates", "firmware")


def build_wheel(tmp: Path) -> Path:
    """The wheel of a copy of the sources (the build writes build/ and *.egg-info beside
    them, which must not land in the checkout)."""
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                          "--no-build-isolation", "-w", str(tmp / "dist"), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return next((tmp / "dist").glob("mcuq-*.whl"))


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as z:
        shipped = set(z.namelist())
    for folder, package in (("templates", "codegen/templates"), ("firmware", "codegen/firmware")):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                name = f"{package}/{path.relative_to(ROOT / folder).as_posix()}"
                assert name in shipped, f"the wheel lacks {name}"

    # a clean virtualenv with the wheel; the heavy dependencies (torch, onnx, ...) are
    # taken from this one's site-packages, added after the venv's own
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    run = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                          "--quiet", "--no-deps", str(wheel)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "work"
    work.mkdir()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(9, 6), torch.nn.ReLU(), torch.nn.Linear(6, 4))
    path = save_model(model.eval(), torch.zeros(1, 9), "onnx_legacy", work / "m", dynamic_time=False)
    np.save(work / "calib.npy", np.random.default_rng(0).standard_normal((8, 9)).astype(np.float32))
    where = subprocess.run([str(python), "-c", "import mcuq, codegen; print(mcuq.__file__, codegen.__file__)"],
                           cwd=work, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and str(venv) in where
    mcuq = str(venv / "bin" / "mcuq")
    for argv in (["export", path.name, "--calib", "calib.npy", "--isa", "xcv", "--cores", "2", "-o", "out"],
                 ["verify", "out", "--target", "host"], ["verify", "out", "--target", "qemu"]):
        run = subprocess.run([mcuq, *argv], cwd=work, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"mcuq {' '.join(argv)}: {run.stderr}"
    assert "bit-exact" in run.stdout

"""Writing outputs so that a failure leaves nothing half-written."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError


def check_replaceable(out_dir: Path, force: bool) -> None:
    """An output directory may be replaced only with --force, and only when it is an mcuq
    export (it has a model.json) or empty: --force never deletes anything else."""
    out_dir = Path(out_dir)
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if not out_dir.is_dir() or out_dir.is_symlink():
        raise McuqError(f"{out_dir} exists and is not a directory; choose another output path")
    if not force:
        raise McuqError(f"output directory {out_dir} already exists; use --force to replace it")
    if any(out_dir.iterdir()) and not (out_dir / "model.json").is_file():
        raise McuqError(f"{out_dir} is not an mcuq export (no model.json) and not empty; "
                        "--force replaces only an earlier export: choose another output path")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_directory(out_dir: Path, force: bool):
    """Yield a temporary directory that becomes out_dir on success, with the permissions
    of a directory made by mkdir (the user's umask); nothing is left behind on failure."""
    out_dir = Path(out_dir)
    check_replaceable(out_dir, force)
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise McuqError(f"cannot create {out_dir}: {parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    old = parent / f".{out_dir.name}.old-{os.getpid()}"
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def check_output_file(path: Path) -> Path:
    """An output file path: its folder must exist and it must not be a directory."""
    path = Path(path)
    if path.is_dir():
        raise McuqError(f"{path} is a directory; give a file name for the output")
    if not path.parent.resolve().is_dir():
        raise McuqError(f"cannot write {path}: the folder {path.parent} does not exist")
    return path


@contextlib.contextmanager
def atomic_file(path: Path):
    """Yield a temporary path beside `path` that replaces it when the block completes;
    on failure the temporary file is removed."""
    path = check_output_file(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def write_text(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text)

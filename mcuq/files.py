"""Writing outputs so that a failure leaves nothing half-written."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError


@contextlib.contextmanager
def atomic_directory(out_dir: Path, force: bool):
    """Yield a temporary directory that becomes out_dir on success."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not force:
        raise McuqError(f"output directory {out_dir} already exists; use --force to replace it")
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise McuqError(f"cannot create {out_dir}: {parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    try:
        yield tmp
        old = None
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{os.getpid()}"
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def save_npy(path: Path, array: np.ndarray) -> None:
    """Write through a temporary file, so a failure leaves no partial output."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, array)
    tmp.replace(path)

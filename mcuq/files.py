"""Writing outputs so that a failure leaves nothing half-written."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError


# what an export directory holds: --force replaces a directory only when it holds nothing else
EXPORT_ENTRIES = ("model.json", "weights.npz", "model.onnx", "verify_input.npy",
                  "calibration.json", "report.json", "c", "build", "bench.json", "bench_rtl.json",
                  "precision.json")


def _is_export_entry(name: str) -> bool:
    return name in EXPORT_ENTRIES or (name.startswith("verify_") and name.endswith(".json"))


def check_replaceable(out_dir: Path, force: bool) -> None:
    """An output directory may be replaced only with --force, and only when it is empty or
    holds nothing but what an mcuq export writes: --force never deletes anything else."""
    out_dir = Path(out_dir)
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if not out_dir.is_dir() or out_dir.is_symlink():
        raise McuqError(f"{out_dir} exists and is not a directory; choose another output path")
    if not force:
        raise McuqError(f"output directory {out_dir} already exists; use --force to replace it")
    entries = [p.name for p in out_dir.iterdir()]
    if not entries:
        return
    if "model.json" not in entries:
        raise McuqError(f"{out_dir} is not an mcuq export (no model.json) and not empty; "
                        "--force replaces only an earlier export: choose another output path")
    foreign = sorted(n for n in entries if not _is_export_entry(n))
    if foreign:
        raise McuqError(f"{out_dir} holds files an mcuq export does not ({', '.join(foreign[:5])}"
                        f"{', ...' if len(foreign) > 5 else ''}); --force replaces only an "
                        "earlier export: move them away or choose another output path")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux's atomic rename with flags; False where the system lacks it."""
    import ctypes
    import errno

    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    if libc.renameat2(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):  # a kernel or file system without it
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(parent: Path, name: str, out_dir: Path) -> None:
    """What a run killed mid-way left beside out_dir: its temporary directory (removed) and,
    if it died between the two renames of a replacement, the earlier export (restored)."""
    for leftover in parent.glob(glob.escape(f".{name}.") + "*-*"):
        kind, _, rest = leftover.name[len(name) + 2:].partition("-")
        pid = rest.split("-")[0]
        if kind not in ("tmp", "old") or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if kind == "old" and not out_dir.exists():
            leftover.rename(out_dir)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def prepare_output(out_dir: Path, force: bool) -> None:
    """Before an output directory is written: what a killed run left beside it is cleaned up
    (or restored), then out_dir must be absent or replaceable."""
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise McuqError(f"cannot create {out_dir}: {parent} does not exist")
    _clean_leftovers(parent, out_dir.name, out_dir)
    check_replaceable(out_dir, force)


@contextlib.contextmanager
def atomic_directory(out_dir: Path, force: bool):
    """Yield a temporary directory that becomes out_dir on success, with the permissions
    of a directory made by mkdir (the user's umask); nothing is left behind on failure.

    The last step is one atomic rename: without force it fails if out_dir has appeared
    meanwhile (another run), so no run silently replaces another's output; with force the
    old and new directories are exchanged in one step, so there is never a moment without
    an export. Where the system lacks that rename, the old export is moved aside first, and
    a later run restores it if this one was killed in between."""
    out_dir = Path(out_dir)
    prepare_output(out_dir, force)
    parent = out_dir.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=parent))
    old = parent / f".{out_dir.name}.old-{os.getpid()}"
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        _install(tmp, out_dir, old, force)
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def _install(tmp: Path, out_dir: Path, old: Path, force: bool) -> None:
    taken = McuqError(f"{out_dir} was created by another run while this one worked; nothing "
                      "was replaced (use --force to replace it)")
    if not (out_dir.exists() or out_dir.is_symlink()):
        try:
            if _renameat2(tmp, out_dir, _RENAME_NOREPLACE):
                return
        except FileExistsError:
            if not force:
                raise taken from None
        else:  # no renameat2: a plain rename refuses a non-empty directory
            try:
                tmp.rename(out_dir)
                return
            except OSError:
                if not force:
                    raise taken from None
    if not force:
        raise taken
    check_replaceable(out_dir, force)  # still an export, now
    if _renameat2(tmp, out_dir, _RENAME_EXCHANGE):
        return  # tmp now holds the earlier export, removed by the caller
    out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except OSError:
        old.rename(out_dir)
        raise


def check_output_file(path: Path) -> Path:
    """An output file path: its folder must exist and it must not be a directory."""
    path = Path(path)
    if path.is_dir():
        raise McuqError(f"{path} is a directory; give a file name for the output")
    if path.exists() and not path.is_file():
        from mcuq.inputs import file_kind

        raise McuqError(f"{path} is {file_kind(path)}; mcuq writes a new file and renames it "
                        "into place, which would replace it: give the path of a file")
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

"""Reading what a user gives mcuq, as if a stranger had written it.

Every input file is checked before it is opened: it must be a regular file (a FIFO
would block the read forever, a device such as /dev/zero never ends). JSON is parsed
with its nesting bounded (a deeply nested document is one line, not a RecursionError).
An array's declared size must fit the bytes that hold it and this machine's memory, so a
header claiming terabytes is refused before anything is allocated.
"""
from __future__ import annotations

import json
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError

MAX_JSON_BYTES = 64 << 20  # every JSON file mcuq reads is far smaller


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def file_kind(path: Path) -> str:
    return _kind(Path(path).stat().st_mode)


def input_file(path: str | Path, what: str) -> Path:
    """`path` as a regular file (symlinks followed), or one line saying what it is."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise McuqError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise McuqError(f"{what} file {path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise McuqError(f"{what} {path} is {_kind(mode)}, not a file; give a file")
    return path


def memory_bytes() -> int:
    """The machine's physical memory: no input array may claim more."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def parse_json(text: str | bytes, where: str):
    """A JSON document; one line naming `where` when it is not valid or nested too deeply."""
    try:
        return json.loads(text)
    except RecursionError:
        raise McuqError(f"{where} is nested too deeply to be a file mcuq reads") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise McuqError(f"{where} is not valid JSON ({exc})") from None


def read_json(path: str | Path, what: str):
    path = input_file(path, what)
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise McuqError(f"{what} {path} is {size} bytes, larger than any JSON file mcuq writes "
                        f"or reads ({MAX_JSON_BYTES} bytes)")
    try:
        return parse_json(path.read_bytes(), f"{what} {path}")
    except OSError as exc:
        raise McuqError(f"{what} {path} cannot be read ({exc.strerror})") from None


def _npy_header(f, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an .npy header, without reading the data."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise McuqError(f"{where} is not a readable .npy array ({exc})") from None
    if dtype.hasobject:
        raise McuqError(f"{where} holds Python objects, not numbers; mcuq never unpickles them "
                        "(save plain numeric arrays)")
    return tuple(int(s) for s in shape), dtype


def _check_size(shape, dtype: np.dtype, available: int, where: str) -> None:
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > available:
        raise McuqError(f"{where} declares an array of shape {list(shape)} ({declared} bytes), "
                        f"but holds {available} bytes of data; the file is damaged")
    if declared > memory_bytes() // 2:
        raise McuqError(f"{where} holds an array of {declared} bytes, more than half of this "
                        "machine's memory; give a smaller set")


def _load_npy(f, available: int, where: str) -> np.ndarray:
    start = f.tell()
    shape, dtype = _npy_header(f, where)
    _check_size(shape, dtype, available - (f.tell() - start), where)
    f.seek(start)
    try:
        return np.load(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise McuqError(f"{where} is not a readable array ({exc})") from None


def load_arrays(path: str | Path, what: str) -> dict[str, np.ndarray] | np.ndarray:
    """An .npy file's array, or an .npz file's arrays by name, each checked as above."""
    path = input_file(path, what)
    where = f"{what} file {path}"
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
            f.seek(0)
            if magic == b"\x93NUMPY":
                return _load_npy(f, path.stat().st_size, where)
        if not zipfile.is_zipfile(path):
            raise McuqError(f"{where} is not a readable .npy/.npz array (neither an .npy header "
                            "nor a zip archive)")
        arrays = {}
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise McuqError(f"{where}: member '{info.filename}' is not an .npy array; "
                                    "an .npz holds arrays only (np.savez)")
                with archive.open(info) as member:
                    arrays[info.filename[:-4]] = _load_npy(member, info.file_size,
                                                           f"{where}, array '{info.filename[:-4]}'")
        return arrays
    except McuqError:
        raise
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError) as exc:
        raise McuqError(f"{where} is damaged ({exc})") from None

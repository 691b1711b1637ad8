"""Calibration and test data: .npy or .npz, batch on axis 0.

For a model with recurrent layers each item is a (time, *input shape) sequence, so
the array is (items, time, features). For other models an item may also be a
single frame: (items, *input shape), e.g. (items, features) or (items, C, H, W).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.errors import McuqError


def load_array(path: str | Path, what: str = "data") -> np.ndarray:
    from mcuq.inputs import load_arrays

    data = load_arrays(path, what)
    if isinstance(data, dict):
        keys = list(data)
        if not keys:
            raise McuqError(f"{what} file {path} holds no arrays; store the data with np.save")
        if len(keys) == 1:
            data = data[keys[0]]
        elif "x" in keys:
            data = data["x"]
        else:
            raise McuqError(f"{what} file {path} holds several arrays ({', '.join(keys)}); "
                            "store one, or name the input array 'x'")
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise McuqError(f"{what} file {path} holds {data.dtype} values, not real numbers")
    return data


def as_sequences(data: np.ndarray, shape: tuple[int, ...], recurrent: bool, what: str = "data"
                 ) -> np.ndarray:
    """(items, time, *shape) float32, checked against the model input's per-frame shape."""
    shape = tuple(shape)
    frame = len(shape)
    if data.ndim == frame + 1 and not recurrent:
        data = data[:, None]
    if data.ndim != frame + 2:
        per_frame = "features" if frame == 1 else "channels, height, width"
        item = f"a (time, {per_frame}) sequence"
        if not recurrent:
            item = f"one ({per_frame}) frame or {item}"
        raise McuqError(f"{what} has shape {list(data.shape)}; expected items on axis 0, each "
                        f"{item}, i.e. an array (items, time, {', '.join(map(str, shape))})")
    if tuple(data.shape[2:]) != shape:
        if frame == 1:
            raise McuqError(f"{what} has {data.shape[-1]} features per frame, the model input "
                            f"has {shape[0]}")
        raise McuqError(f"{what} has frames of shape {list(data.shape[2:])}, the model input "
                        f"has {list(shape)}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise McuqError(f"{what} is empty (shape {list(data.shape)})")
    if not np.all(np.isfinite(data)):
        raise McuqError(f"{what} contains NaN or infinite values")
    return np.ascontiguousarray(data, dtype=np.float32)


def one_sequence(data: np.ndarray, shape: tuple[int, ...], recurrent: bool, what: str = "input"
                 ) -> np.ndarray:
    """The frames of one input sequence, (time, *shape) float32, for verify and bench:
    a (time, *shape) array, or the first item of (items, time, *shape); a model without
    state also takes (items, *shape) as its frames. The same checks as every command's."""
    frame = len(tuple(shape))
    if data.ndim == frame + 2:
        data = data[:1]
    elif data.ndim == frame + 1:
        data = data[None]
    return as_sequences(data, shape, True, what)[0]


def batches(sequences: np.ndarray, size: int = 64):
    for i in range(0, sequences.shape[0], size):
        yield sequences[i:i + size]

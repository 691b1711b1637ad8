"""Constant-array layouts, chosen per (op, instruction set).

An op names the role of an array ("matvec": a Linear weight [out][k]; "gates": a
recurrent weight [gates * hidden][k], gate-major; "taps": a depthwise filter [c][tap]); each ISA maps every role to the
arrangement its kernels read (firmware/kernels/<isa>/). The simulator keeps the
logical [rows][k] order. A new ISA adds its entry here and its kernel folder.
"""
from __future__ import annotations

import numpy as np

from mcuq.errors import McuqError

LINEAR_GROUP = 4  # rv32: output channels per pass of the matvec kernels


def interleave_gates(w: np.ndarray, gates: int) -> np.ndarray:
    """[gates * hidden][k] -> [hidden][k][gates]: the gate rows of one unit side by side,
    so the kernel reads them at constant offsets from one pointer."""
    hidden = w.shape[0] // gates
    return np.ascontiguousarray(w.reshape(gates, hidden, -1).transpose(1, 2, 0))


def group_channels(w: np.ndarray, group: int = LINEAR_GROUP) -> np.ndarray:
    """[out][k] -> [ceil(out / group)][k][group], the last group padded with zero rows."""
    rows = -(-w.shape[0] // group) * group
    padded = np.zeros((rows, w.shape[1]), w.dtype)
    padded[:w.shape[0]] = w
    return np.ascontiguousarray(padded.reshape(rows // group, group, -1).transpose(0, 2, 1))


# isa -> role -> fn(array, **role arguments)
LAYOUTS = {
    "rv32": {
        "matvec": lambda w: group_channels(w, LINEAR_GROUP),
        "gates": lambda w, gates: interleave_gates(w, gates),
        "taps": lambda w: np.ascontiguousarray(w.T),  # [c][tap] -> [tap][c]
    },
}
ISAS = tuple(LAYOUTS)


def arrange(isa: str, role: str, array: np.ndarray, **kw) -> np.ndarray:
    """`array` as the kernels of `isa` read an array of this role."""
    if isa not in LAYOUTS:
        raise McuqError(f"unknown instruction set '{isa}'; use one of {', '.join(ISAS)}")
    return LAYOUTS[isa][role](array, **kw)

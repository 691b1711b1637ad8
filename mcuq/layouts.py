"""Constant-array layouts, chosen per (op, instruction set).

An op names the role of an array ("matvec": a Linear weight [out][k]; "gates": a
recurrent weight [gates * hidden][k], gate-major; "taps": a depthwise filter [c][tap]; "taps_rows": a 3x3 one by window rows); each ISA maps every role to the
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


def _pad_rows(w: np.ndarray, group: int) -> np.ndarray:
    """w with zero rows appended up to a multiple of `group` rows."""
    rows = -(-w.shape[0] // group) * group
    padded = np.zeros((rows, w.shape[1]), w.dtype)
    padded[:w.shape[0]] = w
    return padded


def group_channels(w: np.ndarray, group: int = LINEAR_GROUP) -> np.ndarray:
    """[out][k] -> [ceil(out / group)][k][group], the last group padded with zero rows."""
    padded = _pad_rows(w, group)
    return np.ascontiguousarray(padded.reshape(-1, group, padded.shape[1]).transpose(0, 2, 1))


def simd_blocks(w: np.ndarray, rows: int) -> np.ndarray:
    """[blocks * rows][k] int8 -> [blocks][ceil(k / 4)][rows][4]: each row's k padded with
    zeros to whole words, and the rows of a block interleaved word by word, so that one
    4-byte load of the input feeds `rows` SIMD dot products whose weight words follow
    each other in memory (read with post-increment loads)."""
    blocks, k = w.shape[0] // rows, w.shape[1]
    words = -(-k // 4)
    padded = np.zeros((blocks * rows, words * 4), w.dtype)
    padded[:, :k] = w
    return np.ascontiguousarray(padded.reshape(blocks, rows, words, 4).transpose(0, 2, 1, 3))


def taps_rows(w: np.ndarray) -> np.ndarray:
    """[c][9] 3x3 taps -> [c][3][4]: each window row's three taps in a word whose fourth
    byte is 0, a channel's three words together, so that the int8 3x3 depthwise kernel
    loads a row's taps with one load (and its SIMD dot product meets 0 in the fourth
    lane)."""
    rows = np.zeros((w.shape[0], 3, 4), w.dtype)
    rows[:, :, :3] = w.reshape(-1, 3, 3)
    return rows


def _xcv(rv32_layout, simd_layout):
    """int8 arrays in the SIMD layout; fp16 ones as rv32 (the fp16 kernels are shared)."""
    return lambda w, **kw: (simd_layout(w, **kw) if w.dtype == np.int8 else rv32_layout(w, **kw))


def _simd_gates(w: np.ndarray, gates: int) -> np.ndarray:
    """[gates * hidden][k] -> [hidden][ceil(k / 4)][gates][4]: a unit's gate rows as one block."""
    hidden = w.shape[0] // gates
    unit_major = w.reshape(gates, hidden, -1).transpose(1, 0, 2).reshape(gates * hidden, -1)
    return simd_blocks(unit_major, gates)


# isa -> role -> fn(array, **role arguments)
_RV32 = {
    "matvec": lambda w: group_channels(w, LINEAR_GROUP),
    "gates": lambda w, gates: interleave_gates(w, gates),
    "taps": lambda w: np.ascontiguousarray(w.T),  # [c][tap] -> [tap][c]
    "taps_rows": taps_rows,  # the int8 3x3 depthwise kernel's planes
}
LAYOUTS = {
    "rv32": _RV32,
    # CORE-V XCV (and GAP9's Xpulpv2): int8 rows as 4-byte words for the SIMD dot products
    "xcv": {
        "matvec": _xcv(_RV32["matvec"], lambda w: simd_blocks(_pad_rows(w, LINEAR_GROUP),
                                                               LINEAR_GROUP)),
        "gates": _xcv(_RV32["gates"], _simd_gates),
        "taps": _RV32["taps"],  # depthwise: per-channel products, no dot product to vectorise
        "taps_rows": taps_rows,
    },
}
ISAS = tuple(LAYOUTS)
# the kernel folders of each ISA, later ones overriding files of earlier ones: xcv's
# kernels are rv32's, built against its own mcuq_isa.h
KERNEL_FOLDERS = {"rv32": ("rv32",), "xcv": ("rv32", "xcv")}


def arrange(isa: str, role: str, array: np.ndarray, **kw) -> np.ndarray:
    """`array` as the kernels of `isa` read an array of this role."""
    if isa not in LAYOUTS:
        raise McuqError(f"unknown instruction set '{isa}'; use one of {', '.join(ISAS)}")
    return LAYOUTS[isa][role](array, **kw)

"""What the code generator is given: a model as C sees it, with every decision made.

mcuq lowers its quantized graph into a Program (mcuq.lower): for each layer the
template and kernel its op declares, its constant arrays already in the kernel's
layout, its parameters, state and scratch buffers. codegen plans the memory
(codegen.planner) and formats the files (codegen.generate); it decides nothing
about ops and imports nothing from mcuq.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# NumPy dtype name -> C type
C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "uint8": "uint8_t",
           "uint16": "uint16_t",
           "float16": "_Float16", "float32": "float"}


@dataclass
class CArray:
    symbol: str
    ctype: str
    values: np.ndarray  # flat, in the kernel's layout
    level: str = "l2"  # its memory level (codegen.memory)


@dataclass
class CStream:
    """How a layer's weights can stream through L1 (codegen.memory): `units` units (hidden
    units, groups of output channels), each a slice of every part's array."""
    units: int
    parts: list[tuple[str, int]]  # (array key, bytes per unit), in the kernel's order


@dataclass
class CTensor:
    name: str
    dtype: str  # a key of C_TYPES
    shape: tuple[int, ...]
    layout: str  # "vector" or "HWC"
    scale: float = 1.0
    zero_point: int = 0

    @property
    def ctype(self) -> str:
        return C_TYPES[self.dtype]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def bytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize


@dataclass
class CBuffer:
    """A per-layer buffer in the arena: persistent state or scratch."""
    name: str
    ctype: str
    bytes: int


@dataclass
class CLayer:
    name: str
    template: str  # templates/ops/<template>.c.j2
    suffix: str  # its macros params_<suffix> and call_<suffix>
    kernel: str  # the C function
    kernel_file: str  # firmware/kernels/<isa>/<kernel_file>
    header: str  # firmware/kernels/<header>: the kernel's struct and prototype
    inputs: list[str]  # tensor names
    output: str
    arrays: dict[str, CArray] = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # JSON scalars of the quantized layer
    values: dict = field(default_factory=dict)  # further values the op formats (literals)
    state: list[CBuffer] = field(default_factory=list)  # in kernel argument order
    scratch: list[CBuffer] = field(default_factory=list)
    reverse: bool = False  # a sequence program runs it from the last frame to the first
    # its kernel can stream these arrays: kernel + "_streamed", template macros
    # params_<suffix>_streamed and call_<suffix>_streamed
    stream: CStream | None = None


@dataclass
class Program:
    name: str  # C prefix
    version: str  # of the generator, stamped in every file
    source: str  # the model file it came from
    isa: str  # the export's kernels: <out>/c/mcuq/kernels/<isa>/
    cores: int  # default cluster cores
    input: str
    output: str
    tensors: dict[str, CTensor]
    layers: list[CLayer]
    tables: dict[str, np.ndarray]  # shared constant tables (mcuq_tables.c)
    # firmware/kernels/<folder>/ copied into the export's kernels/<isa>/ in order, later
    # files winning (default: the isa's own folder)
    isa_folders: tuple = ()
    # 0: a streaming program (run_frame, frame by frame); N: a sequence program
    # (run_sequence over at most N frames, layer by layer: mcuq.schedule), whose arena
    # holds N frames of every tensor
    frames: int = 0
    output_final: bool = False  # the output that counts is the last frame's (Y_h)

    @property
    def weight_bytes(self) -> int:
        return int(sum(a.values.nbytes for layer in self.layers for a in layer.arrays.values()))

"""The quantized graph: what the simulator runs and the code generator emits.

Saved as `model.json` (structure, quantization parameters, per-layer notes) and
`weights.npz` (integer arrays, keyed `<layer>.<array>`), both readable by hand.

Memory layout in C: a vector is stored as it is; an image `(C, H, W)` is stored
HWC (channels last), as CMSIS-NN and PULP-NN store activations: the channels of one
pixel are contiguous, so a convolution reads one input vector per tap and reuses it
for every output channel, a SIMD dot product runs along channels, and a channel
concatenation is a per-pixel copy. The simulator keeps NumPy's channels-first
order; `to_c_order` and `from_c_order` convert at the boundary (verify, enhance).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError

FORMAT_VERSION = 2
DTYPES = {"int8": "int8", "fp16": "float16", "fp32": "float32"}  # precision -> storage type


@dataclass
class QTensor:
    shape: tuple[int, ...]  # per frame, channels first: (F,) or (C, H, W)
    scale: float
    zero_point: int
    dtype: str = "int8"

    def __post_init__(self):
        self.shape = tuple(int(s) for s in self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def c_layout(self) -> str:
        return "HWC" if len(self.shape) == 3 else "vector"


def to_c_order(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(..., *shape) in NumPy order -> the same values in C memory order (HWC images)."""
    if len(shape) == 3:
        values = np.moveaxis(values, -3, -1)
    return np.ascontiguousarray(values)


def from_c_order(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Flat per-frame values in C memory order, (..., size) -> (..., *shape)."""
    lead = values.shape[:-1]
    if len(shape) == 3:
        c, h, w = shape
        return np.moveaxis(values.reshape(*lead, h, w, c), -1, -3)
    return values.reshape(*lead, *shape)


@dataclass
class QLayer:
    kind: str
    name: str
    inputs: list[str]
    outputs: list[str]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # JSON scalars (ints, floats, strings)
    source: str = ""


@dataclass
class QGraph:
    name: str  # C prefix of the generated API
    input: str
    output: str
    tensors: dict[str, QTensor]
    layers: list[QLayer]
    meta: dict = field(default_factory=dict)

    @property
    def input_tensor(self) -> QTensor:
        return self.tensors[self.input]

    @property
    def output_tensor(self) -> QTensor:
        return self.tensors[self.output]

    def tensor_bytes(self, name: str) -> int:
        t = self.tensors[name]
        return t.size * np.dtype(t.dtype).itemsize

    @property
    def reference(self) -> bool:
        """An fp32-ref export: the float model for the simulator, no C."""
        return self.meta.get("precision") == "fp32-ref"

    def require_c(self, what: str) -> None:
        if self.reference:
            raise McuqError(f"{what} needs generated C, and an fp32-ref export has none (it is "
                            "the float reference); export with --precision int8, fp16 or mixed")

    def weight_bytes(self) -> int:
        return int(sum(a.nbytes for layer in self.layers for a in layer.arrays.values()))

    def save(self, directory: Path) -> None:
        layers = []
        arrays = {}
        for layer in self.layers:
            entry = {k: v for k, v in asdict(layer).items() if k != "arrays"}
            entry["arrays"] = {k: {"dtype": str(a.dtype), "shape": list(a.shape)}
                               for k, a in layer.arrays.items()}
            layers.append(entry)
            arrays.update({f"{layer.name}.{k}": a for k, a in layer.arrays.items()})
        doc = {"format_version": FORMAT_VERSION, "name": self.name, "input": self.input,
               "output": self.output,
               "tensors": {k: asdict(v) for k, v in self.tensors.items()},
               "layers": layers, "meta": self.meta}
        (directory / "model.json").write_text(json.dumps(doc, indent=1) + "\n")
        np.savez(directory / "weights.npz", **arrays)

    @classmethod
    def load(cls, directory: Path) -> "QGraph":
        directory = Path(directory)
        if not (directory / "model.json").is_file():
            raise McuqError(f"{directory} is not an mcuq export directory (no model.json); "
                            "create one with `mcuq export`")
        try:
            doc = json.loads((directory / "model.json").read_text())
            stored = np.load(directory / "weights.npz")
        except (OSError, ValueError) as exc:
            raise McuqError(f"{directory}: cannot read the export ({exc}); export it again") from None
        if doc.get("format_version") != FORMAT_VERSION:
            raise McuqError(f"{directory} was written by another mcuq version; export it again")
        layers = []
        for entry in doc["layers"]:
            arrays = {k: stored[f"{entry['name']}.{k}"] for k in entry.pop("arrays")}
            layers.append(QLayer(arrays=arrays, **entry))
        tensors = {k: QTensor(**v) for k, v in doc["tensors"].items()}
        return cls(name=doc["name"], input=doc["input"], output=doc["output"],
                   tensors=tensors, layers=layers, meta=doc.get("meta", {}))

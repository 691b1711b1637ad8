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

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError
from mcuq.inputs import read_json

FORMAT_VERSION = 3  # 2: shaped tensors, per-run ISA, passes, weights_sha256; 3: c_sha256, sha256
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
    # SHA-256 of every file of the export's c/ folder (relative path -> hex), as written
    c_files: dict[str, str] | None = None

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
    def sequence(self) -> bool:
        """A model with a reverse layer: it runs over whole sequences (mcuq.schedule)."""
        return any(layer.params.get("reverse", 0) for layer in self.layers)

    @property
    def reference(self) -> bool:
        """An fp32-ref export: the float model for the simulator, no C."""
        return self.meta.get("precision") == "fp32-ref"

    def require_streaming(self, what: str) -> None:
        if self.sequence:
            raise McuqError(f"{what} measures a streaming model frame by frame, and this one "
                            "reads its sequences backwards (a reverse or bidirectional "
                            "layer): it runs whole sequences; use mcuq verify")

    def require_c(self, what: str) -> None:
        if self.reference:
            raise McuqError(f"{what} needs generated C, and an fp32-ref export has none (it is "
                            "the float reference); export with --precision int8, fp16 or mixed")

    def weight_bytes(self) -> int:
        return int(sum(a.nbytes for layer in self.layers for a in layer.arrays.values()))

    def save(self, directory: Path) -> None:
        """model.json and weights.npz into `directory`; c_files (the C already written
        into directory/c) are recorded, and the document carries its own SHA-256, so that
        an edit made after export is named as one."""
        layers = []
        arrays = {}
        for layer in self.layers:
            entry = {k: v for k, v in asdict(layer).items() if k != "arrays"}
            entry["arrays"] = {k: {"dtype": str(a.dtype), "shape": list(a.shape)}
                               for k, a in layer.arrays.items()}
            layers.append(entry)
            arrays.update({f"{layer.name}.{k}": a for k, a in layer.arrays.items()})
        np.savez(directory / "weights.npz", **arrays)
        doc = {"format_version": FORMAT_VERSION, "name": self.name, "input": self.input,
               "output": self.output,
               "tensors": {k: asdict(v) for k, v in self.tensors.items()},
               "layers": layers, "meta": self.meta,
               "weights_sha256": _sha256(directory / "weights.npz"),
               "c_sha256": self.c_files or {}}
        doc["sha256"] = document_sha256(doc)
        (directory / "model.json").write_text(json.dumps(doc, indent=1) + "\n")

    @classmethod
    def load(cls, directory: Path) -> "QGraph":
        """Read and validate an export: every field of model.json is checked (one line
        naming the field on any mismatch), weights.npz must be the file the export wrote
        (its SHA-256 is in model.json), and the graph must run one frame."""
        from mcuq.export_format import check_document, check_runs

        directory = Path(directory)
        if not (directory / "model.json").is_file():
            raise McuqError(f"{directory} is not an mcuq export directory (no model.json); "
                            "create one with `mcuq export`")
        try:
            doc = read_json(directory / "model.json", "export file")
        except McuqError as exc:
            raise McuqError(f"{exc}; export the model again") from None
        check_document(doc, directory)
        if doc["sha256"] != document_sha256(doc):
            raise McuqError(f"{directory}/model.json was edited after export (its SHA-256 "
                            "differs from the one recorded in it); export the model again")
        weights = directory / "weights.npz"
        if not weights.is_file() or _sha256(weights) != doc["weights_sha256"]:
            raise McuqError(f"{weights} is missing or is not the file this export wrote (its "
                            "SHA-256 differs from model.json's weights_sha256); export again")
        try:
            with np.load(weights, allow_pickle=False) as stored:
                layers = []
                for entry in doc["layers"]:
                    entry = dict(entry)
                    arrays = {k: stored[f"{entry['name']}.{k}"] for k in entry.pop("arrays")}
                    layers.append(QLayer(arrays=arrays, **entry))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise McuqError(f"{weights} cannot be read ({exc}); export again") from None
        tensors = {k: QTensor(**v) for k, v in doc["tensors"].items()}
        qgraph = cls(name=doc["name"], input=doc["input"], output=doc["output"],
                     tensors=tensors, layers=layers, meta=doc.get("meta", {}),
                     c_files=doc["c_sha256"])
        check_runs(qgraph, doc, directory)
        return qgraph


def document_sha256(doc: dict) -> str:
    """The SHA-256 of model.json's content without its own "sha256" field (canonical JSON)."""
    body = {k: v for k, v in doc.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def c_manifest(c_dir: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every file under c_dir."""
    return {p.relative_to(c_dir).as_posix(): _sha256(p)
            for p in sorted(c_dir.rglob("*")) if p.is_file()}


def check_c_folder(c_dir: Path, recorded: dict[str, str]) -> None:
    """c_dir holds exactly the files the export wrote, byte for byte, and no symlink: what
    verify builds is what was proved, and an edited model.mk never reaches make."""
    if c_dir.is_symlink() or not c_dir.is_dir():
        raise McuqError(f"{c_dir} is missing or is a symlink; export the model again")
    found = {}
    for p in sorted(c_dir.rglob("*")):
        rel = p.relative_to(c_dir).as_posix()
        if p.is_symlink():
            raise McuqError(f"{c_dir}/{rel} is a symlink; the export writes none: export the model again")
        if p.is_file():
            found[rel] = _sha256(p)
    extra = sorted(set(found) - set(recorded))
    missing = sorted(set(recorded) - set(found))
    changed = sorted(r for r in set(found) & set(recorded) if found[r] != recorded[r])
    for what, names in (("was changed after export", changed), ("is not a file the export wrote", extra),
                        ("is missing", missing)):
        if names:
            raise McuqError(f"{c_dir}/{names[0]} {what}"
                            f"{f' (and {len(names) - 1} more)' if len(names) > 1 else ''}; mcuq "
                            "builds only the C it generated: export the model again")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

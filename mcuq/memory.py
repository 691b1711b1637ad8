"""The memory of the target chip as the user gives it: `--memory FILE` (JSON sizes in
bytes) and `--l1 BYTES`, checked, into codegen.memory.MemoryTarget; and the generation of
an export's C with its placement (a program that does not fit is a user error that says
what would fit)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from codegen.generate import generate_c
from codegen.memory import DoesNotFit, MemoryTarget
from mcuq.errors import McuqError
from mcuq.inputs import read_json

FIELDS = {"l1": "the cluster's L1", "l2": "L2", "nvm": "the non-volatile memory for weights",
          "l1_reserved": "L1 kept for the cores' stacks"}
REQUIRED = ("l1", "l2", "nvm")


def _size(value, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise McuqError(f"{where}: {key} ({FIELDS[key]}) must be a whole number of bytes, "
                        f"0 or more, not {value!r}")
    return value


def target(path: Path | None = None, l1: int | None = None) -> MemoryTarget:
    """GAP9's memory, or the sizes of a target file, with --l1 over either."""
    memory = MemoryTarget()
    if path is not None:
        doc = read_json(path, "memory target")
        where = f"memory target {path}"
        if not isinstance(doc, dict):
            raise McuqError(f"{where} must be a JSON object of sizes in bytes, e.g. "
                            '{"l1": 131072, "l2": 1572864, "nvm": 2097152}')
        unknown = sorted(set(doc) - set(FIELDS))
        if unknown:
            raise McuqError(f"{where}: unknown key {unknown[0]!r}; the keys are "
                            f"{', '.join(FIELDS)}")
        missing = [key for key in REQUIRED if key not in doc]
        if missing:
            raise McuqError(f"{where} gives no size for {missing[0]} ({FIELDS[missing[0]]}); "
                            f"it needs {', '.join(REQUIRED)} in bytes")
        memory = MemoryTarget(**{key: _size(v, key, where) for key, v in doc.items()})
    if l1 is not None:
        memory = dataclasses.replace(memory, l1=_size(l1, "l1", "--l1"))
    if memory.l1 <= memory.l1_reserved:
        raise McuqError(f"L1 of {memory.l1} bytes leaves nothing beside the {memory.l1_reserved} "
                        "bytes reserved for the cores' stacks")
    return memory


def as_meta(memory: MemoryTarget) -> dict:
    return dataclasses.asdict(memory)


def of_meta(meta: dict) -> MemoryTarget:
    """An export's memory target (GAP9's for an export without one)."""
    doc = meta.get("memory") or {}
    try:
        return MemoryTarget(**{key: _size(v, key, "model.json memory") for key, v in doc.items()})
    except TypeError:
        raise McuqError("model.json has an unknown memory key; export the model again") from None


def generate(program, c_dir: Path, memory: MemoryTarget) -> dict:
    """codegen.generate_c, with a program that does not fit said as a user error."""
    try:
        return generate_c(program, c_dir, memory)
    except DoesNotFit as exc:
        raise McuqError(f"the model does not fit the target's memory: {exc}") from None

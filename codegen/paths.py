"""Where the templates and the firmware sources are.

An installed mcuq ships them inside the codegen package (codegen/templates,
codegen/firmware; see pyproject.toml); in a checkout they sit beside it at the
top of the repository.
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_HERE / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mcuq installation is incomplete: no {name}/ beside {_HERE}")


def templates_dir() -> Path:
    return _find("templates")


def firmware_dir() -> Path:
    return _find("firmware")

"""What an op's ONNX handler sees of the import: values and node helpers.

Every ONNX value is one of
  * a constant (numpy array), folded from initializers and constant subgraphs;
  * an activation (`Act`): an IR tensor plus the source layout around it, one role
    per source axis: T time, F a per-frame axis, 1 a singleton (batch, direction),
    N a batch of independent sequences (a recurrent model's file with a batch above 1);
    `final` marks a value that exists at the last frame only (a recurrent layer's final
    state, ONNX's Y_h): the layer's per-frame output, read after the last frame;
  * unusable (`Unusable`): an output mcuq cannot stream, e.g. an RNN's final state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx


@dataclass(frozen=True)
class Act:
    tensor: str  # the IR tensor holding this value, one frame at a time
    roles: tuple[str, ...]
    shape: tuple[int, ...]
    final: bool = False  # the value after the last frame only
    # a 1-D signal (.., C, L) whose IR tensor is the image (C, 1, L) that the window ops
    # (Conv1d, pools) read; every other reader gets its (C, L) frame (onnx_import)
    signal: bool = False

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """The per-frame shape: the extents of the F axes, in order."""
        return tuple(s for r, s in zip(self.roles, self.shape) if r == "F")

    @property
    def features(self) -> int:
        """The extent of the last axis, which must be a per-frame axis of a vector."""
        return self.shape[self.roles.index("F")]

    def with_frame_shape(self, tensor: str, frame_shape) -> "Act":
        """The same source layout around another tensor of `frame_shape` (as many F
        axes as this one)."""
        it = iter(frame_shape)
        shape = tuple(next(it) if r == "F" else s for r, s in zip(self.roles, self.shape))
        return Act(tensor, self.roles, shape, self.final, self.signal)

    def frame_axis(self, source_axis: int) -> int | None:
        """The per-frame axis of a source axis, or None when it is not an F axis."""
        axis = source_axis % len(self.roles)
        if self.roles[axis] != "F":
            return None
        return self.roles[:axis].count("F")


@dataclass(frozen=True)
class Unusable:
    why: str


def label(node) -> str:
    output = next((o for o in node.output if o), "")
    return f"'{node.name}'" if node.name else f"producing '{output}'"


def attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def is_bias(c: np.ndarray, features: int) -> bool:
    """A constant that broadcasts along the feature axis only."""
    return c.size in (1, features) and all(s == 1 for s in c.shape[:-1])

"""plan_arena: place every buffer of a model in one static arena.

Recurrent state lives at the start (it persists between frames, and reset
clears exactly that prefix). Per-frame activations follow, placed greedily
(largest first, lowest offset that does not overlap a buffer alive at the same
time), as TFLM's greedy planner does. A layer's input and output are both alive
while it runs, so they never share bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

ALIGN = 4


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass
class Buffer:
    name: str
    bytes: int
    first: int  # index of the layer that writes it
    last: int  # index of the last layer that reads it
    offset: int = -1


@dataclass
class ArenaPlan:
    bytes: int
    state_bytes: int
    offsets: dict[str, int]


def plan_arena(state: list[tuple[str, int]], activations: list[Buffer]) -> ArenaPlan:
    offsets = {}
    cursor = 0
    for name, size in state:
        offsets[name] = cursor
        cursor += _align(size)
    state_bytes = cursor
    placed: list[Buffer] = []
    end = state_bytes
    for buf in sorted(activations, key=lambda b: (-b.bytes, b.first)):
        offset = state_bytes
        for other in sorted(placed, key=lambda b: b.offset):
            if other.last < buf.first or buf.last < other.first:
                continue  # never alive together
            if offset + buf.bytes <= other.offset:
                break
            offset = max(offset, _align(other.offset + other.bytes))
        buf.offset = offset
        placed.append(buf)
        offsets[buf.name] = offset
        end = max(end, _align(offset + buf.bytes))
    return ArenaPlan(bytes=max(end, ALIGN), state_bytes=state_bytes, offsets=offsets)

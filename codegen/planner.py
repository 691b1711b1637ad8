"""Memory planning in three steps, each testable alone (as TVM's USMP splits it):

1. `lifetimes(program)`: every buffer of the arena with the span of layers it lives
   through: per-frame activations (written by one layer, read until their last
   reader), per-layer scratch (an im2col or partial-sum buffer: its layer only), and
   recurrent state (alive across frames).
2. `plan_arena(state, buffers)`: offsets. State first (it persists between frames,
   and reset clears exactly that prefix); the rest greedily, largest first, at the
   lowest offset that overlaps no buffer alive at the same time (TFLM's greedy
   planner). A layer's inputs, scratch and output are alive together, so they never
   share bytes.
3. `pointers(program, plan)`: the C expression of every tensor and buffer.

A sequence program (Program.frames > 0) runs each layer over every frame before the next
(mcuq.schedule): its tensors hold all frames, so they are `frames` times larger and
their expressions point at the frame being computed.
"""
from __future__ import annotations

from dataclasses import dataclass

from codegen.program import Program

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
    naive_bytes: int = 0  # every buffer apart, for comparison


def buffer_key(layer: str, buffer: str) -> str:
    return f"{layer}.{buffer}"


def lifetimes(program: Program) -> tuple[list[tuple[str, int]], list[Buffer]]:
    """(state buffers in layer order, per-frame buffers with their lifetimes). The model's
    input and output live in the caller's memory, not in the arena."""
    state = [(buffer_key(layer.name, s.name), s.bytes) for layer in program.layers
             for s in layer.state]
    last_read = {}
    for index, layer in enumerate(program.layers):
        for tensor in layer.inputs:
            last_read[tensor] = index
    buffers = []
    frames = max(program.frames, 1)  # a sequence program keeps every frame of a tensor
    for index, layer in enumerate(program.layers):
        if layer.output != program.output:
            buffers.append(Buffer(layer.output, program.tensors[layer.output].bytes * frames,
                                  index, last_read.get(layer.output, index)))
        buffers += [Buffer(buffer_key(layer.name, s.name), s.bytes, index, index)
                    for s in layer.scratch]
    return state, buffers


def plan_arena(state: list[tuple[str, int]], buffers: list[Buffer]) -> ArenaPlan:
    offsets = {}
    cursor = 0
    for name, size in state:
        offsets[name] = cursor
        cursor += _align(size)
    state_bytes = cursor
    placed: list[Buffer] = []
    end = state_bytes
    for buf in sorted(buffers, key=lambda b: (-b.bytes, b.first)):
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


def pointers(program: Program, plan: ArenaPlan, frame: str | None = None) -> dict[str, str]:
    """C expressions: tensors by name, layer buffers by buffer_key(layer, buffer). In a
    sequence program a tensor holds every frame, and its expression points at the frame
    that the C expression `frame` names (default: the one being computed)."""
    prefix = program.name
    exprs = {program.input: f"{prefix}_input", program.output: f"{prefix}_output"}
    for name, tensor in program.tensors.items():
        if name not in exprs and name in plan.offsets:
            exprs[name] = f"({tensor.ctype} *)({prefix}_arena + {plan.offsets[name]})"
    if program.frames:
        frame = frame or f"{prefix}_frame"
        for name in list(exprs):
            if frame != "0":
                exprs[name] = f"({exprs[name]} + {frame} * {program.tensors[name].size})"
    for layer in program.layers:
        for buf in layer.state + layer.scratch:
            key = buffer_key(layer.name, buf.name)
            exprs[key] = f"({buf.ctype} *)({prefix}_arena + {plan.offsets[key]})"
    return exprs

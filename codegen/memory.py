"""Memory levels: where each array of a Program lives, and which layers stream their
weights through L1 (the kernels' loop: firmware/kernels/rv32/stream.h).

A target has a cluster L1 (fast, small, shared by the cores), an L2 and a non-volatile
memory for weights (GAP9: 128 KB, 1.5 MB, 2 MB MRAM). The placement, in order:

1. The arena (activations by lifetime, scratch, recurrent state) goes to L1 when it takes
   at most half of the L1 left beside the cores' stacks (`l1_reserved`), else to L2.
2. Weights fill the rest of L1 ("resident": read in place from L1). When they do not all
   fit, the layers that can stream (an op's c_stream declaration: a unit is a hidden unit
   or a group of output channels) share one L1 buffer of two tiles (half of the L1 left,
   at most two tiles of the largest layer, but at least the two largest tiles that give
   every core the same number of pairs of units, when L1 has room for them, and at least
   two tiles of the widest unit); the layers
   that cannot stream are made resident first, then the streamable ones from the smallest,
   and the streamable ones left over stream tile by tile from their home level; any other
   layer left over reads its weights in place from its home level.
3. The weights that are not resident live in L2, or in the non-volatile memory when L2
   cannot hold them beside an L2 arena.
A tile holds as many units as half the buffer does, rounded down to a multiple of two
units per core (the kernels compute units in pairs, so every core gets the same work).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from codegen.program import CLayer, Program

LEVELS = ("l1", "l2", "nvm")
LEVEL_NAMES = {"l1": "L1", "l2": "L2", "nvm": "NVM"}
ALIGN = 8  # bytes: each part of a tile starts at a multiple of this


class DoesNotFit(Exception):
    """The program does not fit the target; the message says by how much and what would."""


@dataclass(frozen=True)
class MemoryTarget:
    l1: int = 128 * 1024  # the cluster's shared L1
    l2: int = 1536 * 1024
    nvm: int = 2 * 1024 * 1024  # on-chip non-volatile memory for weights (MRAM)
    l1_reserved: int = 8 * 1024  # L1 kept for the cluster cores' stacks


@dataclass
class Stream:
    """A streamed layer: tiles of tile_units units through two L1 buffers."""
    units: int
    parts: list[tuple[str, int]]  # (array key, bytes per unit) in kernel order
    tile_units: int = 0

    def tile_bytes(self, units: int | None = None) -> int:
        n = self.tile_units if units is None else units
        return sum(_align(n * unit) for _, unit in self.parts)

    @property
    def tiles(self) -> int:
        return -(-self.units // self.tile_units)

    def tile_sizes(self) -> list[int]:
        """Units per tile: full tiles, then the rest."""
        return [min(self.tile_units, self.units - first)
                for first in range(0, self.units, self.tile_units)]

    def tile_order(self, arrays: dict) -> np.ndarray:
        """The parts (flat arrays by key) as bytes, tile by tile as each tile lies in L1
        (mcuq_stream.h); a last unit shorter than unit_bytes (the bias of a last group of
        fewer than four channels) is padded with zeros."""
        raw = {key: np.ascontiguousarray(arrays[key]).view(np.uint8) for key, _ in self.parts}
        out = []
        first = 0
        for n in self.tile_sizes():
            for key, unit in self.parts:
                chunk = raw[key][first * unit:(first + n) * unit]
                out.append(np.pad(chunk, (0, _align(n * unit) - chunk.size)))
            first += n
        return np.concatenate(out)


@dataclass
class LayerPlace:
    weights: str  # the level of its weight arrays
    weight_bytes: int
    stream: Stream | None = None  # streamed through L1 from `weights`
    bytes_moved: int = 0  # per frame, by the DMA


@dataclass
class Placement:
    target: MemoryTarget
    arena: str
    arena_bytes: int
    stream_bytes: int  # the L1 buffer of the streamed layers (two tiles)
    layers: dict[str, LayerPlace] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        used = {level: 0 for level in LEVELS}
        used[self.arena] += self.arena_bytes
        used["l1"] += self.stream_bytes + self.target.l1_reserved
        for place in self.layers.values():
            used[place.weights] += place.weight_bytes
        return used

    def summary(self) -> dict:
        sizes = {level: getattr(self.target, level) for level in LEVELS}
        return {"target": {**sizes, "l1_reserved": self.target.l1_reserved},
                "used": self.totals(), "arena": self.arena, "stream_bytes": self.stream_bytes,
                "bytes_moved": sum(p.bytes_moved for p in self.layers.values()),
                "layers": {name: {"weights": p.weights, "weight_bytes": p.weight_bytes,
                                  "streamed": p.stream is not None,
                                  "tile_units": p.stream.tile_units if p.stream else 0,
                                  "tiles": p.stream.tiles if p.stream else 0,
                                  "units": p.stream.units if p.stream else 0,
                                  "bytes_moved": p.bytes_moved}
                           for name, p in self.layers.items()}}


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _kib(n: int) -> str:
    return f"{n} bytes ({n / 1024:.1f} KiB)"


def weight_bytes(layer: CLayer) -> int:
    return int(sum(a.values.nbytes for a in layer.arrays.values()))


def tile_units(stream: Stream, buffer: int, cores: int) -> int:
    """The most units whose tile fits half of `buffer`, in whole pairs per core when the
    layer has that many; 0 when not even one unit fits."""
    half = buffer // 2
    n = min(half // sum(u for _, u in stream.parts), stream.units)
    while n > 0 and stream.tile_bytes(n) > half:
        n -= 1
    step = 2 * cores
    if n >= step and n < stream.units:
        n -= n % step
    return n


def balanced_units(stream: Stream, free: int, cores: int) -> int:
    """The most units, a multiple of two per core (or the whole layer), of which two tiles
    fit in `free` bytes; 0 when not even one pair per core does."""
    n = tile_units(stream, free, cores)
    return n if n == stream.units or n % (2 * cores) == 0 else 0


def place(program: Program, arena_bytes: int, target: MemoryTarget) -> Placement:
    """Levels for the arena and every layer's weights, and the tiles of streamed layers.
    Raises DoesNotFit with what would fit."""
    l1_free = target.l1 - target.l1_reserved
    if l1_free <= 0:
        raise DoesNotFit(f"L1 of {_kib(target.l1)} leaves nothing beside the "
                         f"{_kib(target.l1_reserved)} reserved for the cores' stacks")
    arena = "l1" if arena_bytes <= l1_free // 2 else "l2"
    if arena == "l2" and arena_bytes > target.l2:
        raise DoesNotFit(f"the arena (activations and state) needs {_kib(arena_bytes)}, "
                         f"{arena_bytes - target.l2} bytes more than L2 ({_kib(target.l2)}); "
                         "use fewer frames per sequence or int8 activations")
    free = l1_free - (arena_bytes if arena == "l1" else 0)
    sizes = {layer.name: weight_bytes(layer) for layer in program.layers}
    streamable = {layer.name: Stream(layer.stream.units, list(layer.stream.parts))
                  for layer in program.layers if layer.stream}
    plan = Placement(target, arena, arena_bytes, 0)
    resident = set(sizes) if sum(sizes.values()) <= free else None
    if resident is None:
        widest = max((s.tile_bytes(1) for s in streamable.values()), default=0)
        largest = max((s.tile_bytes(s.units) for s in streamable.values()), default=0)
        if streamable and 2 * widest > free:
            raise DoesNotFit(f"L1 leaves {_kib(free)} for weights, less than two tiles of the "
                             f"widest unit ({_kib(2 * widest)}, a unit of "
                             f"{max(streamable, key=lambda n: streamable[n].tile_bytes(1))}); "
                             f"give the target at least {2 * widest - free} bytes more L1 "
                             "(--l1, --memory)")
        # the largest tiles that give every core the same number of pairs of units, when
        # L1 has room for two of them: fewer tiles, fewer barriers
        balanced = max((s.tile_bytes(balanced_units(s, free, program.cores))
                        for s in streamable.values()), default=0)
        plan.stream_bytes = max(min(_align(free // 2), 2 * largest), 2 * balanced, 2 * widest)
        room = free - plan.stream_bytes
        order = ([n for n in sizes if n not in streamable]
                 + sorted(streamable, key=lambda n: sizes[n]))
        resident = set()
        for name in order:
            if sizes[name] <= room:
                resident.add(name)
                room -= sizes[name]
        if not set(streamable) - resident:  # nothing streams after all: no buffer
            plan.stream_bytes = 0
    home_bytes = sum(sizes[n] for n in sizes if n not in resident)
    l2_left = target.l2 - (arena_bytes if arena == "l2" else 0)
    home = "l2" if home_bytes <= l2_left else "nvm"
    if home == "nvm" and home_bytes > target.nvm:
        largest = max((n for n in sizes if n not in resident), key=lambda n: sizes[n])
        fp16 = any(a.ctype == "_Float16" for layer in program.layers if layer.name == largest
                   for a in layer.arrays.values())
        advice = ("use int8 for it (--precision-file) or a weight budget (--budget-weights), "
                  "or give the target more memory (--memory)" if fp16 else
                  "it is int8 already: give the target more memory (--memory), for instance "
                  "an external flash as its non-volatile memory")
        raise DoesNotFit(f"the weights need {_kib(home_bytes)} beside L1, "
                         f"{home_bytes - target.nvm} bytes more than the non-volatile memory "
                         f"({_kib(target.nvm)}); the largest layer is {largest} "
                         f"({_kib(sizes[largest])}): {advice}")
    for layer in program.layers:
        name = layer.name
        if name in resident:
            plan.layers[name] = LayerPlace("l1", sizes[name])
            continue
        stream = streamable.get(name)
        if stream is None:
            plan.layers[name] = LayerPlace(home, sizes[name])
            continue
        stream.tile_units = tile_units(stream, plan.stream_bytes, program.cores)
        moved = sum(stream.tile_bytes(n) for n in stream.tile_sizes())
        plan.layers[name] = LayerPlace(home, sizes[name], stream, moved)
    return plan

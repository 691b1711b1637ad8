"""Precision under a guaranteed budget (`--budget-weights BYTES`, `--budget-cycles N`): each
layer gets int8 or fp16 so that the model meets the budget for certain, with as little
error as a greedy search over measured costs finds.

In the spirit of CGMQ's guaranteed resource bound, but after training, from measurements:

1. Cost. Every candidate layer (one with kernels at both precisions) is quantized at
   both: its weight bytes are those of its arrays;
   its cycles are the instructions of its cluster cores on the export's critical path,
   counted by QEMU for the rv32 kernels (`mcuq bench`, one instruction per cycle), in an
   all-int8 and an all-fp16 build.
2. Sensitivity. Each candidate alone at int8, every other layer at fp16: the noise power
   this adds to the model output against the float model, on the report data.
3. Search. From all fp16 (the least error), the candidate that costs the least added noise
   per unit of overshoot it removes goes to int8, until every budget is met; then each
   int8 layer, the noisiest first, goes back to fp16 when the budget still holds.
4. Guarantee. The chosen assignment is quantized, its C generated and measured as a whole
   (the weight bytes of the C, tables and padding included; cycles by a counted QEMU run,
   converts between precisions included; it must fit the target's memory), and the
   search goes on from there while a budget is exceeded; when everything is int8 and a
   budget is still exceeded, the budget is impossible and the error names the smallest
   achievable figure.

The assignment is a precision file (`--precision-file`): the export writes it as
precision.json.
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuq.errors import McuqError
from mcuq.ir import Graph
from mcuq.ops import op
from mcuq.options import QuantOptions
from mcuq.qgraph import QGraph
from mcuq.reference import FloatModel
from mcuq.simulate import Simulator

CHOICES = ("fp16", "int8")
SENSITIVITY_ITEMS = 4  # report items the noise is measured on
COUNT_FRAMES = 3  # frames of the counted QEMU runs


@dataclass(frozen=True)
class Budget:
    weights: int | None = None  # bytes of the layers' arrays
    cycles: int | None = None  # per frame, the cluster's critical path (rv32, QEMU count)

    def __bool__(self) -> bool:
        return self.weights is not None or self.cycles is not None

    def checked(self, isa: str) -> "Budget":
        for name, value in (("--budget-weights", self.weights), ("--budget-cycles", self.cycles)):
            if value is not None and value <= 0:
                raise McuqError(f"{name} {value}: give a positive number")
        if self.cycles is not None and isa != "rv32":
            raise McuqError("--budget-cycles counts the rv32 kernels under QEMU; fp16 layers "
                            f"do not run on the {isa} target's RTL core (it has no FPU): export "
                            "with --isa rv32, or budget the weights only")
        return self


@dataclass
class Candidate:
    name: str
    kind: str
    bytes: dict  # precision -> weight bytes
    cycles: dict  # precision -> critical-path cycles per frame (empty without a cycle budget)
    noise: float = 0.0  # output noise power this layer adds at int8


def weight_bytes(qgraph: QGraph) -> dict[str, int]:
    return {layer.name: int(sum(a.nbytes for a in layer.arrays.values()))
            for layer in qgraph.layers}


def candidates_of(graph: Graph) -> list[str]:
    """Every layer with kernels at both precisions: one without weights costs no bytes, but
    its cycles, and the converts it needs beside int8 neighbours, count."""
    return [layer.name for layer in graph.layers
            if set(CHOICES) <= set(op(layer.kind).PRECISIONS)]


class Search:
    """The measurements of one model (quantized from one calibration) and the search."""

    def __init__(self, graph: Graph, stats: dict, name: str, options: QuantOptions,
                 report_data: np.ndarray, cores: int, isa: str, memory):
        self.graph, self.stats, self.name, self.options = graph, stats, name, options
        self.data = report_data[:SENSITIVITY_ITEMS]
        self.cores, self.isa, self.memory = cores, isa, memory
        self.reference = FloatModel(graph).run(self.data)

    def quantize(self, assignment: dict) -> QGraph:
        from mcuq.pipeline import quantize_with

        options = dataclasses.replace(self.options, precision="fp16",
                                      overrides={**(self.options.overrides or {}), **assignment})
        return quantize_with(self.graph, self.stats, self.name, options)

    def noise(self, qgraph: QGraph) -> float:
        got = Simulator(qgraph).run(self.data)
        return float(np.mean((self.reference.astype(np.float64) - got) ** 2))

    def built(self, qgraph: QGraph, count: bool, roomy: bool = False) -> tuple[int, dict, float]:
        """The assignment as the export writes it: the C's weight bytes, and with `count`
        per layer the mean critical-path count per frame and the worst frame's total. A
        `roomy` build gives the target L2 and NVM without limit (the same L1, so the same
        tiles): the all-fp16 model of a measurement may not fit the real one."""
        from mcuq.bench import run_counted
        from mcuq.export import write_graph

        memory = dataclasses.replace(self.memory, l2=1 << 30, nvm=1 << 30) if roomy else self.memory
        qgraph.meta.update({"cores": self.cores, "isa": self.isa, "source": "budget",
                            "memory": dataclasses.asdict(memory)})
        with tempfile.TemporaryDirectory(prefix="mcuq-budget-") as tmp:
            c_bytes = int(write_graph(qgraph, Path(tmp))["weight_bytes"])
            if not count:
                return c_bytes, {}, 0.0
            sim = Simulator(qgraph)
            frames_q = sim.quantize_input(self.data[:1, :COUNT_FRAMES])
            expected = sim.run_device(frames_q)[0]
            counts = run_counted(Path(tmp), qgraph, frames_q[0], self.cores, expected, 900.0)
        critical = counts.max(axis=2)  # (frames, layers): the busiest core of each layer
        per_layer = {layer.name: float(critical[:, i].mean())
                     for i, layer in enumerate(qgraph.layers)}
        return c_bytes, per_layer, float(critical.sum(axis=1).max())

    def measure(self, names: list[str], budget: Budget) -> list[Candidate]:
        """Every candidate's costs and noise; keeps the all-fp16 model as self.fp16."""
        fp16 = self.fp16 = self.quantize({})
        int8 = self.quantize({n: "int8" for n in names})
        b16, b8 = weight_bytes(fp16), weight_bytes(int8)
        c16 = c8 = {}
        if budget.cycles is not None:
            _, c16, _ = self.built(fp16, True, roomy=True)
            _, c8, _ = self.built(int8, True, roomy=True)
        base = self.noise(fp16)
        out = []
        for n in names:
            noise = self.noise(self.quantize({n: "int8"})) - base
            out.append(Candidate(n, next(la.kind for la in self.graph.layers if la.name == n),
                                 {"fp16": b16[n], "int8": b8[n]},
                                 {"fp16": c16.get(n, 0.0), "int8": c8.get(n, 0.0)} if c16 else {},
                                 max(noise, 0.0)))
        return out


def _over(budget: Budget, weights: float, cycles: float) -> dict[str, float]:
    """What each budget is exceeded by (positive), by name."""
    over = {}
    if budget.weights is not None and weights > budget.weights:
        over["weights"] = weights - budget.weights
    if budget.cycles is not None and cycles > budget.cycles:
        over["cycles"] = cycles - budget.cycles
    return over


def _next(pool: list[Candidate], over: dict) -> Candidate | None:
    """The fp16 candidate whose int8 costs the least noise per share of the overshoot it
    removes (a candidate that removes none is never taken while another does)."""
    best, best_score = None, None
    for c in pool:
        gain = 0.0
        if "weights" in over:
            gain += min(1.0, (c.bytes["fp16"] - c.bytes["int8"]) / over["weights"])
        if "cycles" in over and c.cycles:
            gain += min(1.0, (c.cycles["fp16"] - c.cycles["int8"]) / over["cycles"])
        if gain <= 0:
            continue
        score = (c.noise + 1e-30) / gain
        if best_score is None or score < best_score:
            best, best_score = c, score
    return best or (pool[0] if pool else None)


def search(graph: Graph, stats: dict, name: str, options: QuantOptions, report_data: np.ndarray,
           budget: Budget, cores: int, isa: str, memory) -> tuple[dict, dict]:
    """The assignment {layer: "int8" | "fp16"} that meets `budget`, and a summary of the
    search (every candidate's costs and noise, the measured figures of the assignment)."""
    budget = budget.checked(isa)
    names = candidates_of(graph)
    if not names:
        raise McuqError("a budget chooses each layer's precision, and this model has no layer "
                        "with both int8 and fp16 kernels")
    s = Search(graph, stats, name, options, report_data, cores, isa, memory)
    found = s.measure(names, budget)
    forced: set[str] = set()  # taken to int8 by a measurement: never given back
    chosen = {c.name: "fp16" for c in found}
    pool = sorted(found, key=lambda c: c.noise)

    def estimate() -> tuple[float, float]:
        w = sum(c.bytes[chosen[c.name]] for c in found) + fixed_bytes
        cy = sum(c.cycles[chosen[c.name]] for c in found if c.cycles)
        return w, cy

    # what the C holds beyond the candidates' arrays (tables, layout and tile padding)
    fixed_bytes = s.built(s.fp16, False, roomy=True)[0] - sum(c.bytes["fp16"] for c in found)
    while True:
        # the estimate first (cheap), then the whole assignment built and measured
        while (over := _over(budget, *estimate())) and pool:
            pick = _next(pool, over)
            pool.remove(pick)
            chosen[pick.name] = "int8"
        # a small layer taken early may have become unnecessary: back to fp16 what the
        # budget still allows, the noisiest first
        for c in sorted(found, key=lambda c: -c.noise):
            if chosen[c.name] == "int8" and c not in pool and c.name not in forced:
                chosen[c.name] = "fp16"
                if _over(budget, *estimate()):
                    chosen[c.name] = "int8"
                else:
                    pool.append(c)
        qgraph = s.quantize(chosen)
        try:
            weights, _, cycles = s.built(qgraph, budget.cycles is not None)
            over = _over(budget, weights, cycles)
        except McuqError as exc:  # the target's memory cannot hold it: fewer bytes
            if "does not fit" not in str(exc) or not pool:
                raise
            weights, cycles, over = float("inf"), 0.0, {"weights": 1.0}
        if not over:
            break
        if not pool:
            least = {"weights": f"{int(weights)} bytes of weights",
                     "cycles": f"{cycles:.0f} cycles per frame on {cores} cores"}
            which = next(iter(over))
            raise McuqError(f"--budget-{which} {getattr(budget, which)} cannot be met: the "
                            f"smallest this model achieves is {least[which]} (every layer "
                            "at int8)")
        # converts or measurement beyond the estimate: one more layer to int8, for good
        pick = _next(pool, over)
        pool.remove(pick)
        chosen[pick.name] = "int8"
        forced.add(pick.name)
    summary = {"weights_budget": budget.weights, "cycles_budget": budget.cycles,
               "weight_bytes": int(weights), "cycles": cycles if budget.cycles else None,
               "cycles_source": "QEMU instructions of the rv32 kernels, busiest cluster core "
                                "per layer, worst frame (one instruction per cycle)"
                                if budget.cycles else None,
               "output_noise": s.noise(qgraph),
               "layers": [{"layer": c.name, "kind": c.kind, "precision": chosen[c.name],
                           "bytes": c.bytes, "cycles": c.cycles or None,
                           "int8_noise": c.noise} for c in found]}
    return chosen, summary

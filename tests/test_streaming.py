"""Weights streamed through L1 (codegen.memory, firmware/kernels/rv32/stream.h): a model
whose Linear, LSTM and GRU weights do not fit a small L1 runs them tile by tile, with
tiles that do not divide the layers evenly, bit-exact on the host, QEMU and the RTL at
1 and 8 cores; the placement's rules and its refusals."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent / "ops"))
from conftest import random_sequences, save_model  # noqa: E402
from codegen.memory import DoesNotFit, MemoryTarget, Stream, place, tile_units  # noqa: E402
from codegen.planner import lifetimes, plan_arena  # noqa: E402
from mcuq.export import export  # noqa: E402
from mcuq.lower import lower  # noqa: E402
from mcuq.qgraph import QGraph  # noqa: E402
from mcuq.verify import verify  # noqa: E402

RESERVED = MemoryTarget().l1_reserved


class Stack(nn.Module):
    """Linear -> LSTM -> GRU -> Linear, odd sizes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(5)
        self.inp = nn.Linear(13, 81)
        self.lstm = nn.LSTM(81, 21, batch_first=True)
        self.gru = nn.GRU(21, 23, batch_first=True)
        self.out = nn.Linear(23, 61)

    def forward(self, x):
        y, _ = self.lstm(torch.relu(self.inp(x)))
        y, _ = self.gru(y)
        return self.out(y)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The model file, calibration data and a test sequence."""
    tmp = tmp_path_factory.mktemp("stack")
    path = save_model(Stack().eval(), torch.zeros(1, 9, 13), "onnx_legacy", tmp / "stack")
    np.save(tmp / "calib.npy", random_sequences(4, 9, 13, seed=1))
    return path, tmp / "calib.npy", random_sequences(1, 7, 13, seed=2)[0]


def export_streamed(stack, out: Path, isa: str, l1: int) -> dict:
    path, calib, _ = stack
    report = export(path, calib, out, cores=3, isa=isa, memory=MemoryTarget(l1=l1))
    return report["memory"]


# L1 beside the stacks: 2000 bytes stream every layer (the LSTM one unit per tile), 3200
# stream the LSTM two units per tile; every other tile count leaves a shorter last tile


@pytest.mark.parametrize("isa, l1", [("rv32", 2000), ("rv32", 3200), ("xcv", 2000),
                                     ("xcv", 3200)])
def test_streamed_layers_are_bit_exact_with_uneven_tiles(stack, tmp_path, isa, l1):
    out = tmp_path / "out"
    memory = export_streamed(stack, out, isa, l1=RESERVED + l1)
    layers = memory["layers"]
    assert all(p["streamed"] for p in layers.values()), layers
    assert layers["lstm0"]["tile_units"] == (1 if l1 == 2000 else 2), layers
    for name, p in layers.items():
        if p["streamed"]:
            # every tile, its parts padded to 8 bytes (the GRU keeps its h table in place)
            assert p["weights"] == "l2"
            assert 0 < p["bytes_moved"] <= p["weight_bytes"] + 4 * 8 * p["tiles"]
            assert p["tiles"] > 1 and (p["tile_units"] == 1 or p["units"] % p["tile_units"])
        else:
            assert p["weights"] == "l1"
    assert memory["used"]["l1"] <= RESERVED + l1
    frames = stack[2]
    targets = [("host", 1), ("host", 8), ("qemu", 1), ("qemu", 8), ("rtl", 1), ("rtl", 8)]
    if isa == "xcv":  # the SIMD layout needs the RTL; the host and QEMU run rv32
        targets = [("rtl", 1), ("rtl", 8)]
    for target, cores in targets:
        summary = verify(out, target, frames, cores=cores)
        assert summary["bit_exact"] and summary["mismatched_bytes"] == 0, (target, cores)


def program_of(stack, tmp_path, cores=3):
    path, calib, _ = stack
    export(path, calib, tmp_path / "e", cores=cores)
    qgraph = QGraph.load(tmp_path / "e")
    program = lower(qgraph, "rv32", "stack")
    state, buffers = lifetimes(program)
    return program, plan_arena(state, buffers).bytes


def test_weights_that_fit_stay_resident_in_l1(stack, tmp_path):
    program, arena = program_of(stack, tmp_path)
    plan = place(program, arena, MemoryTarget())
    assert plan.arena == "l1" and plan.stream_bytes == 0
    assert all(p.weights == "l1" and p.stream is None for p in plan.layers.values())
    assert plan.totals()["l1"] == RESERVED + arena + sum(p.weight_bytes
                                                         for p in plan.layers.values())


def test_placement_keeps_the_small_layers_resident_and_streams_the_rest(stack, tmp_path):
    program, arena = program_of(stack, tmp_path)
    sizes = {layer.name: sum(a.values.nbytes for a in layer.arrays.values())
             for layer in program.layers}
    # room for everything but the largest layer beside its stream buffer
    largest = max(sizes, key=sizes.get)
    l1 = RESERVED + arena + sum(sizes.values()) - sizes[largest] // 3
    plan = place(program, arena, MemoryTarget(l1=l1))
    streamed = {n for n, p in plan.layers.items() if p.stream}
    assert largest in streamed
    resident = sum(p.weight_bytes for p in plan.layers.values() if p.weights == "l1")
    assert resident + plan.stream_bytes + arena + RESERVED <= l1
    assert plan.totals()["l1"] <= l1


def test_tiles_hold_whole_pairs_of_units_per_core():
    stream = Stream(units=256, parts=[("w_ih", 1028), ("w_hh", 1024), ("rows", 128)])
    n = tile_units(stream, 128 * 1024, cores=8)  # 30 units fit half of it
    assert n == 16 and stream.tile_bytes(n) <= 64 * 1024 < stream.tile_bytes(n + 16)
    assert tile_units(stream, 64 * 1024, cores=8) == 15  # fewer than a pair per core
    assert tile_units(stream, 2 * stream.tile_bytes(256), cores=8) == 256  # one tile
    assert tile_units(stream, 2 * stream.tile_bytes(1) - 8, cores=8) == 0


def test_refusals_say_what_would_fit(stack, tmp_path):
    program, arena = program_of(stack, tmp_path)
    with pytest.raises(DoesNotFit, match="less than two tiles of the widest unit"):
        place(program, arena, MemoryTarget(l1=RESERVED + arena * 2 + 64))
    with pytest.raises(DoesNotFit, match="more than the non-volatile memory.*largest layer"):
        place(program, arena, MemoryTarget(l1=RESERVED + 4000, l2=1000, nvm=2000))
    with pytest.raises(DoesNotFit, match="more than L2"):
        place(program, arena, MemoryTarget(l1=RESERVED + 10, l2=arena - 1))


def run_cli(*args, cwd: Path):
    return subprocess.run([sys.executable, "-m", "mcuq.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)


@pytest.mark.parametrize("doc, message", [
    ({"l1": -5, "l2": 1, "nvm": 1}, "l1 (the cluster's L1) must be a whole number of bytes"),
    ({"l1": 131072, "nvm": 1}, "gives no size for l2"),
    ({"l1": 131072, "l2": 1, "nvm": 1, "l3": 4}, "unknown key 'l3'"),
    ([1, 2], "must be a JSON object of sizes"),
])
def test_a_bad_memory_target_is_refused_in_one_line(stack, tmp_path, doc, message):
    path, calib, _ = stack
    (tmp_path / "memory.json").write_text(json.dumps(doc))
    run = run_cli("export", path, "--calib", calib, "-o", tmp_path / "out", "--memory",
                  tmp_path / "memory.json", cwd=tmp_path)
    assert run.returncode == 1 and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_model_that_does_not_fit_fails_naming_the_layer_and_writes_nothing(stack, tmp_path):
    path, calib, _ = stack
    (tmp_path / "memory.json").write_text(json.dumps({"l1": 20000, "l2": 1000, "nvm": 3000}))
    run = run_cli("export", path, "--calib", calib, "-o", tmp_path / "out", "--memory",
                  tmp_path / "memory.json", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "does not fit the target's memory" in run.stderr and "largest layer is" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    run = run_cli("export", path, "--calib", calib, "-o", tmp_path / "out", "--l1", 8200,
                  cwd=tmp_path)
    assert run.returncode == 1 and "less than two tiles" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()

"""mcuq bench: per-core instruction counts from the QEMU plugin (correctness, not speed)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

from conftest import make_stack, random_sequences, save_model
from mcuq.bench import bench, layer_macs
from mcuq.export import export
from mcuq.qgraph import QGraph


def test_bench_counts_are_complete_and_repeatable(tmp_path):
    model = make_stack(5, 13, 11, [("lstm", 9), ("gru", 7)], 13)
    path = save_model(model, torch.zeros(1, 20, 13), "onnx_legacy", tmp_path / "m")
    calib = random_sequences(3, 20, 13, seed=4)
    np.save(tmp_path / "calib.npy", calib)
    export(path, tmp_path / "calib.npy", tmp_path / "out")
    qgraph = QGraph.load(tmp_path / "out")

    first = bench(tmp_path / "out", [1, 2], calib[0])
    again = bench(tmp_path / "out", [2, 1], calib[0])
    assert first == again  # -icount: the same counts every run
    assert set(first["critical_path_instructions"]) == {"1", "2"}
    assert first["speedup"]["1"] == 1.0 and first["speedup"]["2"] > 1.0
    assert first["macs"] == sum(layer_macs(layer) for layer in qgraph.layers)
    assert first["macs"] == 13 * 11 + 4 * 9 * (11 + 9) + 3 * 7 * (9 + 7) + 7 * 13
    assert [row["layer"] for row in first["layers"]] == [layer.name for layer in qgraph.layers]
    for row in first["layers"]:
        for k in ("1", "2"):
            assert 0 < row["critical_path_instructions"][k] <= row["all_cores_instructions"][k]
        # one core does all the work: its critical path is all the work
        assert row["critical_path_instructions"]["1"] == row["all_cores_instructions"]["1"]
    assert first["critical_path_instructions"]["2"] == sum(
        row["critical_path_instructions"]["2"] for row in first["layers"])

    run = subprocess.run([sys.executable, "-m", "mcuq.cli", "bench", str(tmp_path / "out"),
                          "--cores", "1,2", "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["critical_path_instructions"] == first["critical_path_instructions"]

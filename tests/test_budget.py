"""Precision under a guaranteed budget (mcuq.budget): random weight and cycle budgets
between the smallest and the largest achievable are met, as the C is built and as QEMU
counts it; the chosen assignment is a precision file that exports the same model; an
impossible budget names the smallest achievable; conflicting options are refused."""
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent / "ops"))
from conftest import random_sequences, save_model  # noqa: E402
from mcuq.bench import bench  # noqa: E402
from mcuq.budget import Budget  # noqa: E402
from mcuq.errors import McuqError  # noqa: E402
from mcuq.export import export  # noqa: E402

SEED = int(time.time())  # each run tries other budgets; the seed is in the failure message


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.inp = nn.Linear(11, 24)
        self.gru = nn.GRU(24, 20, batch_first=True)
        self.out = nn.Linear(20, 9)

    def forward(self, x):
        y, _ = self.gru(torch.relu(self.inp(x)))
        return torch.sigmoid(self.out(y))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("net")
    path = save_model(Net().eval(), torch.zeros(1, 6, 11), "onnx_legacy", tmp / "net")
    np.save(tmp / "calib.npy", random_sequences(4, 6, 11, seed=1))
    sizes = {p: export(path, tmp / "calib.npy", tmp / p, precision=p)["weight_bytes"]
             for p in ("int8", "fp16")}
    return path, tmp / "calib.npy", sizes


def test_random_weight_budgets_are_met_and_the_choice_exports_again(model, tmp_path):
    path, calib, sizes = model
    rng = random.Random(SEED)
    for k in range(3):
        budget = rng.randint(sizes["int8"] + 64, sizes["fp16"])
        out = tmp_path / f"b{k}"
        report = export(path, calib, out, budget=Budget(weights=budget))
        assert report["weight_bytes"] <= budget, (SEED, budget, report["budget"])
        assert report["budget"]["weight_bytes"] == report["weight_bytes"]
        chosen = json.loads((out / "precision.json").read_text())
        again = export(path, calib, tmp_path / f"again{k}", precision="fp16",
                       overrides=chosen)
        assert again["weight_bytes"] == report["weight_bytes"]
        assert [r["precision"] for r in again["layers"]] == \
            [r["precision"] for r in report["layers"]]


def test_the_largest_budget_keeps_fp16_and_a_tight_one_takes_int8(model, tmp_path):
    path, calib, sizes = model
    loose = export(path, calib, tmp_path / "loose", budget=Budget(weights=sizes["fp16"]))
    assert all(r["precision"] == "fp16" for r in loose["budget"]["layers"])
    tight = export(path, calib, tmp_path / "tight", budget=Budget(weights=sizes["fp16"] - 1))
    assert any(r["precision"] == "int8" for r in tight["budget"]["layers"])


def test_a_random_cycle_budget_is_met_as_qemu_counts_it(model, tmp_path):
    path, calib, _ = model
    frames = random_sequences(1, 6, 11, seed=2)[0]
    counts = {}
    for p in ("int8", "fp16"):
        export(path, calib, tmp_path / p, precision=p, cores=2)
        counts[p] = bench(tmp_path / p, [2], frames)["critical_path_instructions"]["2"]
    # the budget holds for the worst frame, a little above the mean the bench gives
    low, high = sorted(counts.values())
    budget = int(random.Random(SEED).uniform(1.05 * low, max(high, 1.06 * low)))
    out = tmp_path / "cycles"
    report = export(path, calib, out, cores=2, budget=Budget(cycles=budget))
    assert report["budget"]["cycles"] <= budget, (SEED, budget, report["budget"])
    assert bench(out, [2], frames)["critical_path_instructions"]["2"] <= budget


def test_an_impossible_budget_names_the_smallest_achievable(model, tmp_path):
    path, calib, sizes = model
    with pytest.raises(McuqError, match=r"cannot be met: the smallest this model achieves is "
                                        r"\d+ bytes"):
        export(path, calib, tmp_path / "out", budget=Budget(weights=sizes["int8"] // 2))
    assert not (tmp_path / "out").exists()
    with pytest.raises(McuqError, match="--budget-cycles counts the rv32 kernels"):
        export(path, calib, tmp_path / "out", isa="xcv", budget=Budget(cycles=1000))


@pytest.mark.parametrize("args, message", [
    (["--budget-weights", "5000", "--precision", "int8"], "--precision int8 and --budget-weights"),
    (["--budget-weights", "5000", "--precision-file", "p.json"], "--precision-file and"),
    (["--budget-weights", "-4"], "--budget-weights -4: give a positive number"),
])
def test_conflicting_or_bad_budget_options_are_refused(model, tmp_path, args, message):
    path, calib, _ = model
    (tmp_path / "p.json").write_text('{"gru0": "int8"}')
    run = subprocess.run([sys.executable, "-m", "mcuq.cli", "export", str(path), "--calib",
                          str(calib), "-o", str(tmp_path / "out"), *args], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 1 and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()

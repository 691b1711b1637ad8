"""The host engine (mcuq/engine.py): the generated C as a library gives the simulator's
bytes through every command that runs a model (simulate, eval, top1, robustness), picks
itself when it can, and says what is missing when it cannot. (Every op's C engine ==
simulator check is in tests/ops/optest.py.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "ops"))
from conftest import random_sequences, save_model  # noqa: E402
from mcuq.engine import CModel, CSimulator, resolve, simulator  # noqa: E402
from mcuq.errors import McuqError  # noqa: E402
from mcuq.export import export  # noqa: E402
from mcuq.qgraph import QGraph  # noqa: E402
from mcuq.simulate import Simulator  # noqa: E402
from recurrent_models import One  # noqa: E402

MCUQ = [sys.executable, "-m", "mcuq.cli"]


@pytest.fixture(scope="module")
def gru(tmp_path_factory, examples_dir):
    out = tmp_path_factory.mktemp("engine") / "gru"
    export(examples_dir / "models" / "gru_small.onnx", examples_dir / "data" / "calib_small.npy",
           out, precision="mixed")
    return out


def test_auto_is_c_with_a_compiler_and_numpy_without(gru, monkeypatch):
    q = QGraph.load(gru)
    assert resolve("auto", q) == "c" and isinstance(simulator(q), CSimulator)
    assert resolve("numpy", q) == "numpy" and type(simulator(q, engine="numpy")) is Simulator
    monkeypatch.setenv("MCUQ_HOST_CC", "no-such-compiler")
    assert resolve("auto", q) == "numpy"
    with pytest.raises(McuqError, match="needs a host C compiler"):
        resolve("c", q)
    with pytest.raises(McuqError, match="unknown engine 'fast'"):
        resolve("fast", q)


def test_an_fp32_reference_runs_on_numpy_only(tmp_path, examples_dir):
    export(examples_dir / "models" / "gru_small.onnx", examples_dir / "data" / "calib_small.npy",
           tmp_path / "ref", precision="fp32-ref")
    q = QGraph.load(tmp_path / "ref")
    assert resolve("auto", q) == "numpy"
    with pytest.raises(McuqError, match="fp32-ref model has none"):
        resolve("c", q)


def test_simulate_gives_the_same_file_on_both_engines(gru, tmp_path, examples_dir):
    data = np.load(examples_dir / "data" / "test_small.npy")[:5]
    np.save(tmp_path / "x.npy", data)
    outputs = {}
    for engine in ("numpy", "c"):
        for raw in ([], ["--raw"]):
            out = tmp_path / f"{engine}{len(raw)}.npy"
            run = subprocess.run(MCUQ + ["simulate", str(gru), "--input", str(tmp_path / "x.npy"),
                                         "-o", str(out), "--engine", engine, *raw],
                                 capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
            outputs[engine, len(raw)] = out.read_bytes()
    assert outputs["c", 0] == outputs["numpy", 0] and outputs["c", 1] == outputs["numpy", 1]


def test_a_sequence_model_is_rebuilt_for_a_longer_sequence(tmp_path):
    path = save_model(One("gru", 5, 6, seed=2, bidirectional=True).eval(), torch.zeros(1, 4, 5),
                      "onnx_legacy", tmp_path / "bi", dynamic_time=True)
    np.save(tmp_path / "calib.npy", random_sequences(3, 4, 5, 1))
    export(path, tmp_path / "calib.npy", tmp_path / "out", precision="fp16")
    q = QGraph.load(tmp_path / "out")
    assert q.sequence
    engine = CModel(q, threads=2)
    try:
        for frames in (4, 11, 3):
            x_q = Simulator(q).quantize_input(random_sequences(3, frames, 5, frames))
            got, want = engine.run_device(x_q), Simulator(q).run_device(x_q)
            assert got.tobytes() == want.tobytes() and got.shape == want.shape
        assert engine.frames == 11  # built for 4, rebuilt for 11, kept for 3
    finally:
        engine.close()


def test_eval_writes_the_same_results_on_both_engines(examples_dir, tmp_path):
    from mcuq.speech.corpus import generate
    from mcuq.speech.evaluate import evaluate

    generate(tmp_path / "corpus", {"train": 0, "calib": 0, "test": 2}, seed=7)
    results = [evaluate(examples_dir / "models" / "lstm_small.onnx",
                        examples_dir / "data" / "calib_small.npy", tmp_path / "corpus", "test",
                        engine=engine) for engine in ("numpy", "c")]
    same = [json.dumps(r, sort_keys=True, default=lambda a: np.asarray(a).tobytes().hex())
            for r in results]
    assert same[0] == same[1] and results[0]["clips"] == 2


def test_top1_gives_the_same_rows_on_both_engines(tmp_path):
    from mcuq.vision.datasets import digits
    from mcuq.vision.evaluate import evaluate
    from test_vision import small_repvgg

    path = tmp_path / "repvgg.onnx"
    torch.onnx.export(small_repvgg(channels=1), (torch.zeros(1, 1, 32, 32),), path, dynamo=False)
    x, y = digits("test")
    rows = [[{k: v for k, v in row.items() if k != "calib_seconds"}
             for row in evaluate(path, x[:24], x[24:64], y[24:64], ["int8", "fp16", "mixed"],
                                 engine=engine)["rows"]]
            for engine in ("numpy", "c")]
    assert rows[0] == rows[1] and len(rows[0]) == 4

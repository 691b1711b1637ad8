"""The export format is validated on load: an edited or damaged model.json or weights.npz
gives one line naming the field (or the file) for every command that reads an export,
never a traceback and never a silently wrong result."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import make_stack, random_sequences, save_model
from mcuq.errors import McuqError
from mcuq.export import export
from mcuq.qgraph import QGraph

MCUQ = [sys.executable, "-m", "mcuq.cli"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fmt")
    path = save_model(make_stack(3, 7, 5, [("lstm", 3)], 4), torch.zeros(1, 6, 7),
                      "onnx_legacy", tmp / "m")
    np.save(tmp / "calib.npy", random_sequences(3, 6, 7, seed=0))
    export(path, tmp / "calib.npy", tmp / "out")
    return tmp / "out"


def edited(exported, tmp_path, edit) -> str:
    out = tmp_path / "out"
    shutil.copytree(exported, out)
    doc = json.loads((out / "model.json").read_text())
    edit(doc, out)
    (out / "model.json").write_text(json.dumps(doc))
    return out


def first_tensor(doc):
    return next(iter(doc["tensors"].values()))


CASES = {
    "precision int4": (lambda d, o: d["layers"][0]["params"].update(precision="int4"),
                       "params.precision"),
    "scale 0": (lambda d, o: first_tensor(d).update(scale=0.0), ".scale"),
    "scale NaN": (lambda d, o: first_tensor(d).update(scale=float("nan")), ".scale"),
    "zero point 300": (lambda d, o: first_tensor(d).update(zero_point=300), ".zero_point"),
    "unknown kind": (lambda d, o: d["layers"][1].update(kind="conv9d"), ".kind"),
    "unknown dtype": (lambda d, o: first_tensor(d).update(dtype="int4"), ".dtype"),
    "bad shape": (lambda d, o: first_tensor(d).update(shape=[0]), ".shape"),
    "dangling input": (lambda d, o: d["layers"][1].update(inputs=["nowhere"]), "inputs"),
    "cores 99": (lambda d, o: d["meta"].update(cores=99), "meta.cores"),
    "other version": (lambda d, o: d.update(format_version=1), "another mcuq version"),
    "array shape": (lambda d, o: d["layers"][0]["arrays"]["bias"].update(shape=[99]),
                    "model.json says"),
    "hidden size": (lambda d, o: d["layers"][1]["params"].update(hidden=5), "does not run"),
    "weights edited": (lambda d, o: np.savez(o / "weights.npz", x=np.zeros(3)), "SHA-256"),
    "weights missing": (lambda d, o: (o / "weights.npz").unlink(), "SHA-256"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_edited_export_is_refused_naming_the_field(exported, tmp_path, case):
    edit, phrase = CASES[case]
    out = edited(exported, tmp_path, edit)
    with pytest.raises(McuqError, match=phrase.replace("(", r"\(").replace(".", r"\.")):
        QGraph.load(out)


@pytest.mark.parametrize("command", [["simulate", "--input", "X", "-o", "Y"],
                                     ["verify", "--target", "host"], ["report"]])
def test_every_command_refuses_a_damaged_export(exported, tmp_path, command):
    out = edited(exported, tmp_path, CASES["scale 0"][0])
    np.save(tmp_path / "x.npy", random_sequences(1, 6, 7, seed=1)[0])
    args = [a.replace("X", str(tmp_path / "x.npy")).replace("Y", str(tmp_path / "y.npy"))
            for a in command]
    run = subprocess.run(MCUQ + [args[0], str(out)] + args[1:], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0 and ".scale" in run.stderr
    assert not (tmp_path / "y.npy").exists()


def test_truncated_model_json(exported, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(exported, out)
    text = (out / "model.json").read_text()
    (out / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(McuqError, match="not valid JSON"):
        QGraph.load(out)


def test_a_fresh_export_loads(exported):
    assert QGraph.load(exported).layers

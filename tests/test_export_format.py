"""The export format is validated on load: an edited or damaged model.json or weights.npz
gives one line naming the field (or the file) for every command that reads an export,
never a traceback and never a silently wrong result."""
from __future__ import annotations

import hashlib
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
from mcuq.qgraph import QGraph, document_sha256

MCUQ = [sys.executable, "-m", "mcuq.cli"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fmt")
    path = save_model(make_stack(3, 7, 5, [("lstm", 3)], 4), torch.zeros(1, 6, 7),
                      "onnx_legacy", tmp / "m")
    np.save(tmp / "calib.npy", random_sequences(3, 6, 7, seed=0))
    export(path, tmp / "calib.npy", tmp / "out")
    return tmp / "out"


def edited(exported, tmp_path, edit, reseal: bool = True) -> str:
    """A copy of the export with model.json edited; resealed (its own SHA-256 recomputed,
    as a stranger who edits it on purpose would) unless told otherwise, so that the field
    checks behind the seal are what is tested."""
    out = tmp_path / "out"
    shutil.copytree(exported, out)
    doc = json.loads((out / "model.json").read_text())
    edit(doc, out)
    if reseal:
        doc["sha256"] = document_sha256(doc)
    (out / "model.json").write_text(json.dumps(doc))
    return out


def layer_of(doc, kind):
    return next(layer for layer in doc["layers"] if layer["kind"] == kind)


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
    "param zero point 1000": (lambda d, o: layer_of(d, "linear")["params"].update(out_zero_point=1000),
                              "params.out_zero_point is 1000"),
    "param act_min 500": (lambda d, o: layer_of(d, "linear")["params"].update(act_min=500),
                          "params.act_min is 500"),
    "param negative shift": (lambda d, o: layer_of(d, "lstm")["params"].update(q2h_shift=-3),
                             "params.q2h_shift is -3"),
    "int8 layer relabelled fp16": (lambda d, o: layer_of(d, "lstm")["params"].update(precision="fp16"),
                                   "but its output"),
    "c file list": (lambda d, o: d["c_sha256"].update({"../escape.c": "0" * 64}), "c_sha256"),
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


def test_an_edit_that_is_not_resealed_is_named_as_an_edit(exported, tmp_path):
    out = edited(exported, tmp_path, lambda d, o: layer_of(d, "linear")["params"].update(
        out_zero_point=3), reseal=False)
    with pytest.raises(McuqError, match="model.json was edited after export"):
        QGraph.load(out)


def negative_shift(out):
    """A requantization shift array with a negative entry, weights.npz and model.json
    resealed to match."""
    doc = json.loads((out / "model.json").read_text())
    with np.load(out / "weights.npz") as z:
        arrays = dict(z)
    key = next(k for k in arrays if k.endswith(".shift"))
    arrays[key][0] = -1
    np.savez(out / "weights.npz", **arrays)
    doc["weights_sha256"] = hashlib.sha256((out / "weights.npz").read_bytes()).hexdigest()
    doc["sha256"] = document_sha256(doc)
    (out / "model.json").write_text(json.dumps(doc))


def test_array_values_out_of_their_domain_are_named(exported, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(exported, out)
    negative_shift(out)
    with pytest.raises(McuqError, match=r"shift holds values from -1"):
        QGraph.load(out)


C_TAMPER = {
    "make expansion in model.mk": lambda c: (c / "model.mk").write_text(
        (c / "model.mk").read_text() + "\n$(shell touch PLANTED)\n"),
    "a file added": lambda c: (c / "extra.c").write_text("int x;\n"),
    "a kernel removed": lambda c: next((c / "mcuq").rglob("*.c")).unlink(),
    "a symlink": lambda c: (c / "link.h").symlink_to("/etc/hostname"),
}


@pytest.mark.parametrize("case", sorted(C_TAMPER))
def test_verify_builds_only_the_c_the_export_wrote(exported, tmp_path, case):
    out = tmp_path / "out"
    shutil.copytree(exported, out, symlinks=True)
    C_TAMPER[case](out / "c")
    run = subprocess.run(MCUQ + ["verify", str(out), "--target", "host"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith("mcuq: error: ") and "export the model again" in run.stderr
    assert not list(tmp_path.rglob("PLANTED")) and not (out / "build").exists()


def test_verify_never_builds_through_a_build_symlink(exported, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(exported, out)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "build").symlink_to(elsewhere, target_is_directory=True)
    run = subprocess.run(MCUQ + ["verify", str(out), "--target", "host"], capture_output=True,
                         text=True)
    assert run.returncode == 1 and "is a symlink" in run.stderr
    assert not list(elsewhere.iterdir())


def test_truncated_model_json(exported, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(exported, out)
    text = (out / "model.json").read_text()
    (out / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(McuqError, match="not valid JSON"):
        QGraph.load(out)


def test_a_fresh_export_loads(exported):
    assert QGraph.load(exported).layers

"""A model file from a stranger must not run code: crafted .pt2 archives that would make
torch unpickle a payload (which here would plant a marker file) are refused before any of
it runs, naming the entry; so are archives with compiled code or Python objects."""
from __future__ import annotations

import json
import pathlib
import pickle
from pathlib import Path
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from conftest import save_model
from mcuq.errors import McuqError
from mcuq.frontend.load import check_pt2_archive

MCUQ = [sys.executable, "-m", "mcuq.cli"]


class Plant:
    """Unpickling this creates the marker file: what an attacker's payload would do."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def rewrite(src: pathlib.Path, dst: pathlib.Path, replace: dict[str, bytes]) -> None:
    """A copy of the zip archive with some entries (matched by their ending) replaced
    or added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        root = next(n for n in zin.namelist() if n.endswith("archive_format"))[:-len("archive_format")]
        for info in zin.infolist():
            rel = info.filename[len(root):]
            zout.writestr(info, replace.pop(rel, zin.read(info)))
        for rel, data in replace.items():
            zout.writestr(root + rel, data)


@pytest.fixture()
def good_pt2(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh()).eval()
    return save_model(model, torch.zeros(1, 5), "torch_export", tmp_path / "good",
                      dynamic_time=False)


def crafted(good: pathlib.Path, tmp_path, case: str) -> tuple[pathlib.Path, pathlib.Path]:
    marker = tmp_path / f"marker-{case}"
    payload = pickle.dumps(Plant(marker), protocol=2)
    bad = tmp_path / f"{case}.pt2"
    if case == "sample_inputs":
        rewrite(good, bad, {"data/sample_inputs/model.pt": payload})
    elif case == "pickled_weight":
        with zipfile.ZipFile(good) as z:
            name = next(n for n in z.namelist() if n.endswith("model_weights_config.json"))
            config = json.loads(z.read(name))
        first = next(iter(config["config"].values()))
        first["use_pickle"] = True
        rewrite(good, bad, {"data/weights/model_weights_config.json": json.dumps(config).encode(),
                            f"data/weights/{first['path_name']}": payload})
    elif case == "aoti":
        rewrite(good, bad, {"data/aotinductor/model/model.so": b"\x7fELF"})
    elif case.startswith("legacy:"):
        legacy_layout(good, bad, case.split(":", 1)[1], payload)
    return bad, marker


def legacy_layout(good: pathlib.Path, bad: pathlib.Path, entry: str, payload: bytes) -> None:
    """torch's pre-2.8 .pt2 layout (root entries, a "version" file), which
    torch.export.load falls back to, with `entry` carrying the payload."""
    from torch._export.serde.schema import SCHEMA_VERSION

    with zipfile.ZipFile(good) as z:
        program = z.read(next(n for n in z.namelist() if n.endswith("models/model.json")))
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("version", ".".join(map(str, SCHEMA_VERSION)))
        z.writestr("serialized_exported_program.json", program)
        for name in ("serialized_state_dict.pt", "serialized_constants.pt",
                     "serialized_example_inputs.pt"):
            z.writestr(name, payload if name == entry else b"")
        if entry.endswith(".json"):
            z.writestr(entry, payload)


LEGACY = ["legacy:serialized_constants.pt", "legacy:serialized_example_inputs.pt",
          "legacy:serialized_state_dict.pt", "legacy:serialized_state_dict.json"]


@pytest.mark.parametrize("case", ["sample_inputs", "pickled_weight", *LEGACY])
def test_torch_alone_would_run_the_payload(good_pt2, tmp_path, case):
    """The attack is real: torch.export.load on its own runs the payload."""
    bad, marker = crafted(good_pt2, tmp_path, case)
    try:
        torch.export.load(str(bad))
    except Exception:
        pass
    assert marker.exists()


@pytest.mark.parametrize("case,entry", [("sample_inputs", "sample_inputs/model.pt"),
                                        ("pickled_weight", "data/weights/weight_"),
                                        ("aoti", "data/aotinductor/"),
                                        *[(case, case.split(":")[1]) for case in LEGACY]])
def test_crafted_pt2_is_refused_before_anything_runs(good_pt2, tmp_path, case, entry):
    bad, marker = crafted(good_pt2, tmp_path, case)
    with pytest.raises(McuqError, match=entry):
        check_pt2_archive(bad)
    np.save(tmp_path / "calib.npy", np.zeros((3, 5), np.float32))
    run = subprocess.run(MCUQ + ["export", str(bad), "--calib", str(tmp_path / "calib.npy"),
                                 "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("mcuq: error: ") and entry in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", ["sample_inputs", "pickled_weight", *LEGACY])
def test_torch_loads_under_the_restricted_unpickler(good_pt2, tmp_path, case):
    """The second wall alone, as if the entry check had missed the payload: torch.export.load
    inside mcuq's restricted-unpickling context does not run it."""
    from mcuq.frontend.load import _restricted_unpickling

    bad, marker = crafted(good_pt2, tmp_path, case)
    with _restricted_unpickling():
        try:
            torch.export.load(str(bad))
        except Exception:
            pass
    assert not marker.exists()


def test_a_plain_pt2_passes_the_check(good_pt2):
    check_pt2_archive(good_pt2)


def test_paths_are_never_expanded_by_make_or_split_by_qemu(tmp_path):
    """An export path with spaces, a make function, a shell expansion and a comma: verify
    on both targets and bench work, and nothing in the path runs."""
    from mcuq.bench import bench
    from mcuq.export import export
    from mcuq.verify import verify

    # relative names: the commands would create the file in whatever folder they ran in
    weird = tmp_path / "my models, $(shell touch PWNED1) $$(touch PWNED2) `touch PWNED3`"
    weird.mkdir()
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    path = save_model(model.eval(), torch.zeros(1, 6), "onnx_legacy", weird / "m",
                      dynamic_time=False)
    data = np.random.default_rng(0).standard_normal((9, 6)).astype(np.float32)
    np.save(weird / "calib.npy", data)
    out = weird / "out $HOME"
    export(path, weird / "calib.npy", out, cores=2)
    for target in ("host", "qemu"):
        assert verify(out, target, data)["bit_exact"]
    assert bench(out, [1], data)["macs"] == 6 * 5 + 5 * 3
    assert not [p for p in tmp_path.rglob("PWNED*")] and not list(Path.cwd().glob("PWNED*"))
    assert not list((out / "build").iterdir())  # run folders are removed after a run


def test_concurrent_verifies_of_one_export(tmp_path):
    """Each run builds in a folder of its own."""
    from mcuq.export import export

    torch.manual_seed(2)
    path = save_model(torch.nn.Linear(7, 4).eval(), torch.zeros(1, 7), "onnx_legacy",
                      tmp_path / "m", dynamic_time=False)
    np.save(tmp_path / "calib.npy", np.random.default_rng(1).standard_normal((5, 7)))
    export(path, tmp_path / "calib.npy", tmp_path / "out")
    runs = [subprocess.Popen(MCUQ + ["verify", str(tmp_path / "out"), "--target", target,
                                     "--cores", str(cores)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for target in ("host", "qemu") for cores in (1, 3)] * 2
    for proc in runs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert "bit-exact" in stdout

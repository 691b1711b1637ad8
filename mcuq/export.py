"""mcuq export: model file + calibration data -> quantized graph, report and C sources.

Everything is written into a temporary sibling directory that is renamed to the
output directory only when complete, so a failure leaves nothing half-written.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx

from codegen.generate import check_name, generate_c
from mcuq.calibrate import calibrate_minmax
from mcuq.data import as_sequences, batches, load_array
from mcuq.errors import McuqError
from mcuq.frontend import load_model
from mcuq.quantize import assign_precisions, layer_report, quantize_graph

REPORT_ITEMS = 8
MAX_CORES = 8  # the cluster of the target chip


def check_cores(cores: int) -> int:
    if not 1 <= cores <= MAX_CORES:
        raise McuqError(f"--cores {cores}: the cluster has 1 to {MAX_CORES} cores")
    return cores  # calibration items the per-layer SQNR is measured on


@contextlib.contextmanager
def atomic_directory(out_dir: Path, force: bool):
    """Yield a temporary directory that becomes out_dir on success."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not force:
        raise McuqError(f"output directory {out_dir} already exists; use --force to replace it")
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise McuqError(f"cannot create {out_dir}: {parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    try:
        yield tmp
        old = None
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{os.getpid()}"
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_overrides(path: Path | None) -> dict | None:
    """A per-layer precision file: JSON {"<layer name or kind>": "int8" | "fp16", ...}."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise McuqError(f"precision override file not found: {path}")
    try:
        doc = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise McuqError(f"precision override file {path} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise McuqError(f"precision override file {path} must map layer names or kinds to "
                        '"int8" or "fp16", e.g. {"lstm0": "int8", "linear": "fp16"}')
    return doc


def export(model_path: Path, calib_path: Path, out_dir: Path, name: str = "model",
           force: bool = False, test_path: Path | None = None, cores: int = 1,
           precision: str = "int8", overrides: dict | None = None) -> dict:
    model_path, calib_path, out_dir = Path(model_path), Path(calib_path), Path(out_dir)
    check_name(name)
    check_cores(cores)
    if out_dir.exists() and not force:
        raise McuqError(f"output directory {out_dir} already exists; use --force to replace it")
    raw = load_array(calib_path, "calibration data")
    features = raw.shape[-1] if raw.ndim >= 2 else None
    frames = raw.shape[1] if raw.ndim == 3 else 16
    onnx_model, graph = load_model(model_path, features=features, frames=frames)
    calib = as_sequences(raw, graph.input_size, graph.recurrent, "calibration data")
    stats = calibrate_minmax(graph, batches(calib))
    qgraph = quantize_graph(graph, stats, name, assign_precisions(graph, precision, overrides))
    qgraph.meta["precision"] = precision
    qgraph.meta["source"] = Path(model_path).name
    qgraph.meta["cores"] = cores
    if test_path is not None:
        report_data = as_sequences(load_array(test_path, "test data"), graph.input_size,
                                   graph.recurrent, "test data")
    else:
        report_data = calib
    layers = layer_report(graph, qgraph, report_data[:REPORT_ITEMS])

    with atomic_directory(out_dir, force) as tmp:
        qgraph.save(tmp)
        onnx.save(onnx_model, str(tmp / "model.onnx"))
        np.save(tmp / "verify_input.npy", calib[0])
        if qgraph.reference:  # the float model for the simulator only
            c_summary = {"arena_bytes": None, "state_bytes": None,
                         "weight_bytes": qgraph.weight_bytes()}
        else:
            c_summary = generate_c(qgraph, tmp / "c", source=Path(model_path).name)
        report = {"model": str(model_path), "calibration": str(calib_path),
                  "calibration_items": int(calib.shape[0]),
                  "calibration_frames": int(stats["frames"]),
                  "parameters": graph.parameter_count(), **c_summary,
                  "precision": precision, "precisions": qgraph.meta["precisions"],
                  "report_data": str(test_path or calib_path),
                  "report_items": int(min(REPORT_ITEMS, report_data.shape[0])), "layers": layers}
        (tmp / "calibration.json").write_text(json.dumps(stats, indent=1) + "\n")
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report

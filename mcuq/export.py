"""mcuq export: model file + calibration data -> quantized graph, report and C sources.

Everything is written into a temporary sibling directory that is renamed to the
output directory only when complete, so a failure leaves nothing half-written.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import onnx

from codegen.memory import MemoryTarget

from mcuq.budget import Budget, search
from mcuq.calibrate import dead_tensors, guard_notes
from mcuq.chip import check_cores
from mcuq.data import load_array
from mcuq.errors import McuqError
from mcuq.files import atomic_directory, prepare_output
from mcuq.inputs import read_json
from mcuq.lower import check_isa, check_name, lower
from mcuq import memory as memory_target
from mcuq.options import QuantOptions, weight_report
from mcuq.pipeline import (calibration, import_model, prepared, quantize_with,
                           sequences_for, unused_options)
from mcuq.qgraph import QGraph, c_manifest
from mcuq.quantize import layer_report

REPORT_ITEMS = 8  # calibration items the per-layer SQNR is measured on


def load_overrides(path: Path | None) -> dict | None:
    """A per-layer precision file: JSON {"<layer name or kind>": "int8" | "fp16" | {"precision":
    ..., "weight_range": ..., "weight_outliers": <fraction>}, ...}."""
    if path is None:
        return None
    doc = read_json(path, "precision override")

    def setting(x) -> bool:
        return isinstance(x, (str, int, float)) and not isinstance(x, bool)

    if not isinstance(doc, dict) or not all(
            isinstance(v, str) or (isinstance(v, dict) and all(setting(x) for x in v.values()))
            for v in doc.values()):
        raise McuqError(f"precision override file {path} must map layer names or kinds to "
                        '"int8" or "fp16", or to {"precision": ..., "weight_range": ..., '
                        '"weight_outliers": ...}, e.g. {"lstm0": "int8", "conv0": '
                        '{"weight_range": "mse"}}')
    return doc


def write_graph(qgraph: QGraph, directory: Path) -> dict:
    """The quantized graph into an export directory: its C (for the ISA and source file
    in its meta) into directory/c, then model.json and weights.npz, which record the C's
    checksums. Returns the C's memory summary."""
    if qgraph.reference:  # the float model for the simulator only
        c_summary = {"arena_bytes": None, "state_bytes": None,
                     "weight_bytes": qgraph.weight_bytes()}
    else:
        c_summary = memory_target.generate(
            lower(qgraph, qgraph.meta["isa"], qgraph.meta["source"]), directory / "c",
            memory_target.of_meta(qgraph.meta))
        qgraph.c_files = c_manifest(directory / "c")
    qgraph.save(directory)
    return c_summary


def export(model_path: Path, calib_path: Path, out_dir: Path, name: str = "model",
           force: bool = False, test_path: Path | None = None, cores: int = 1,
           isa: str = "rv32", options: QuantOptions | None = None,
           memory: MemoryTarget | None = None, budget: Budget | None = None, **quant) -> dict:
    """`options` (or its fields as keywords: precision, overrides, calib_method, ...)
    say how to quantize (mcuq.options); `memory` is the target's (default: GAP9's); a
    `budget` chooses each layer's precision (mcuq.budget) and writes it as precision.json."""
    model_path, calib_path, out_dir = Path(model_path), Path(calib_path), Path(out_dir)
    options = (options or QuantOptions(**quant)).checked()
    check_name(name)
    check_cores(cores)
    check_isa(isa)
    if budget:
        budget.checked(isa)
        if options.overrides:
            raise McuqError("a precision file and a budget both choose the layers' precisions; "
                            "give one of them")
    prepare_output(out_dir, force)
    raw = load_array(calib_path, "calibration data")
    onnx_model, graph = import_model(model_path, raw)
    graph = prepared(graph, options)
    calib = sequences_for(graph, raw, "calibration data")
    if test_path is not None:
        report_data = sequences_for(graph, load_array(test_path, "test data"), "test data")
    else:
        report_data = calib
    stats = calibration(graph, calib, options)
    searched = None
    if budget:
        chosen, searched = search(graph, stats, name, options, report_data, budget, cores, isa,
                                  memory or MemoryTarget())
        options = dataclasses.replace(options, precision="fp16", overrides=chosen)
    qgraph = quantize_with(graph, stats, name, options)
    qgraph.meta.update({"source": model_path.name, "cores": cores, "isa": isa,
                        "memory": memory_target.as_meta(memory or MemoryTarget())})
    if qgraph.sequence:  # its arena holds the longest sequence it was given
        qgraph.meta["max_frames"] = int(max(calib.shape[1], report_data.shape[1]))
    layers, warnings = layer_report(graph, qgraph, report_data[:REPORT_ITEMS],
                                    lambda layer: weight_report(layer, options.recipe(layer)))
    warnings = unused_options(qgraph, options) + warnings

    with atomic_directory(out_dir, force) as tmp:
        c_summary = write_graph(qgraph, tmp)
        onnx.save(onnx_model, str(tmp / "model.onnx"))
        np.save(tmp / "verify_input.npy", calib[0])
        report = {"model": str(model_path), "calibration": str(calib_path),
                  "calibration_items": int(calib.shape[0]),
                  "calibration_frames": int(stats["frames"]),
                  "parameters": graph.parameter_count(), **c_summary,
                  "precision": options.precision, "precisions": qgraph.meta["precisions"],
                  "calib_method": options.calib_method,
                  "calib_headroom_db": options.headroom_db,
                  "weight_bits": options.weight_bits, "weight_range": options.weight_range,
                  "weight_outliers": options.weight_outliers,
                  "cfws": options.cfws, "equalize": options.equalize,
                  "passes": list(graph.passes), "isa": isa,
                  "report_data": str(test_path or calib_path),
                  "report_items": int(min(REPORT_ITEMS, report_data.shape[0])),
                  "notes": guard_notes(stats) + dead_tensors(graph, stats), "warnings": warnings, "layers": layers}
        if searched is not None:
            report["budget"] = searched
            (tmp / "precision.json").write_text(json.dumps(options.overrides, indent=1) + "\n")
        (tmp / "calibration.json").write_text(json.dumps(stats, indent=1) + "\n")
        (tmp / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report

"""mcuq top1: a classifier's float and quantized top-1 on labelled images.

The float reference is ONNX Runtime on the model's ONNX form. Each quantized
configuration is calibrated on the calibration images, quantized and run in the
bit-exact simulator (what the C code computes). For each configuration the table gives:
- top-1;
- top-1 agreement with the float model;
- logit SQNR against the float logits;
- calibration time and weight bytes.

A configuration is written precision[+method][+cfws][+wN][+range=RULE]. Examples: `int8`,
`int8+kl-improved+cfws`, `int8+mse+w4`, `int8+w4+range=mse`, `fp16`.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from mcuq import fixedpoint as fx
from mcuq.calibrate import DEFAULT_METHOD
from mcuq.errors import McuqError
from mcuq.options import QuantOptions
from mcuq.outliers import check_fraction, side_list_bits
from mcuq.pipeline import import_model, quantize_model, sequences_for
from mcuq.quantize import sqnr_db
from mcuq.ranges import METHODS
from mcuq.engine import simulator
from mcuq.simulate import saturation_warnings

DEFAULT_CONFIGS = "int8,int8+cfws,int8+kl-improved+cfws,fp16"


def parse_config(spec: str) -> dict:
    parts = spec.strip().split("+")
    config = {"name": spec.strip(), "precision": parts[0], "calib_method": DEFAULT_METHOD,
              "cfws": False, "weight_bits": 8, "weight_range": "max", "weight_outliers": 0.0}
    if parts[0] not in ("int8", "fp16", "mixed"):
        raise McuqError(f"configuration '{spec}': start with int8, fp16 or mixed")
    for part in parts[1:]:
        if part in METHODS:
            config["calib_method"] = part
        elif part == "cfws":
            config["cfws"] = True
        elif part[:1] == "w" and part[1:].isdigit() and 2 <= int(part[1:]) <= 8:
            config["weight_bits"] = int(part[1:])
        elif part.startswith("range="):
            config["weight_range"] = part[len("range="):]
            fx.parse_weight_range(config["weight_range"])  # a bad rule is refused here
        elif part.startswith("outliers="):
            config["weight_outliers"] = check_fraction(part[len("outliers="):],
                                                       f"configuration '{spec}': outliers=")
        else:
            raise McuqError(f"configuration '{spec}': '{part}' is not a calibration method "
                            f"({', '.join(METHODS)}), cfws, w2..w8, range=<weight range> or "
                            "outliers=<fraction>")
    return config


def float_logits(onnx_model, images: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: images[i:i + 1]})[0].reshape(1, -1)
                           for i in range(len(images))])


def evaluate(model_path: Path, calib: np.ndarray, images: np.ndarray, labels: np.ndarray,
             configs: list[str], progress=lambda name: None, engine: str = "auto") -> dict:
    specs = [parse_config(c) for c in configs]
    if labels is None:
        raise McuqError("the test images have no labels; top-1 needs them (a folder of class "
                        "folders, CIFAR-10, or an .npz with 'labels')")
    onnx_model, graph = import_model(model_path, calib)
    calib_seq = sequences_for(graph, calib, "calibration images")
    test_seq = sequences_for(graph, images, "test images")
    reference = float_logits(onnx_model, images)
    rows = [{"config": "fp32 (ONNX Runtime)", "top1": float((reference.argmax(1) == labels).mean()),
             "agreement": 1.0, "logit_sqnr_db": float("inf"), "calib_seconds": 0.0,
             "weight_bytes": int(sum(w.nbytes for lay in graph.layers for w in lay.weights.values()))}]
    warnings: dict[str, list[str]] = {}
    for spec in specs:
        start = time.perf_counter()
        qgraph, _ = quantize_model(graph, calib_seq, "model", QuantOptions(
            precision=spec["precision"], calib_method=spec["calib_method"],
            weight_bits=spec["weight_bits"], cfws=spec["cfws"],
            weight_range=spec["weight_range"], weight_outliers=spec["weight_outliers"]))
        seconds = time.perf_counter() - start
        sim = simulator(qgraph, graph, engine)
        logits = sim.run(test_seq).reshape(len(images), -1)
        warnings[spec["name"]] = saturation_warnings(qgraph, sim.saturation)
        predicted = logits.argmax(1)
        rows.append({"config": spec["name"], "top1": float((predicted == labels).mean()),
                     "agreement": float((predicted == reference.argmax(1)).mean()),
                     "logit_sqnr_db": round(sqnr_db(reference, logits), 2),
                     "calib_seconds": round(seconds, 2), "weight_bytes": qgraph.weight_bytes(),
                     "side_list_bits": sum(side_list_bits(q.arrays, q.params)
                                           for q in qgraph.layers)})
        progress(spec["name"])
    return {"model": str(model_path), "calibration_items": int(len(calib)),
            "test_items": int(len(images)), "rows": rows, "warnings": warnings}


def markdown(result: dict, command: str) -> str:
    lines = [f"`{command}`", "",
             f"{result['test_items']} test images, {result['calibration_items']} calibration images.",
             "", "| config | top-1 | agreement with FP32 | logit SQNR (dB) | calibration (s) | weights (bytes) |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['config']} | {100 * r['top1']:.2f}% | {100 * r['agreement']:.2f}% | "
                     f"{r['logit_sqnr_db']} | {r['calib_seconds']} | {r['weight_bytes']} |")
    return "\n".join(lines) + "\n"


def write_results(result: dict, out_dir: Path, command: str) -> None:
    """results.json and results.md in out_dir (created), each written atomically."""
    from mcuq.files import write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "results.json", json.dumps({**result, "command": command}, indent=1) + "\n")
    write_text(out_dir / "results.md", markdown(result, command))

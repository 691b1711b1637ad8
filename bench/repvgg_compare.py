"""RepVGG post-training quantization: mcuq's calibration methods, with and without CFWS,
at 8, 6 and 4 weight bits, against ONNX Runtime's quantize_static (QDQ, per-channel
int8 weights, MinMax and Entropy calibration) on the same model, calibration and test
images.

    .venv/bin/python bench/repvgg_compare.py            # both bundled models, ~30 minutes
    .venv/bin/python bench/repvgg_compare.py --quick    # fewer images, for a smoke run

For each configuration: top-1, top-1 agreement with FP32, logit SQNR against FP32 (ONNX
Runtime on the float model), calibration time and the peak memory (RSS) of a process
that does only that calibration. The calibration memory is also measured at 256 and
4,096 calibration items, streamed in parts of 256 for both tools. Writes
bench/results/repvgg_compare.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"digits": ROOT / "examples/models/repvgg_digits.onnx",
          "shapes": ROOT / "examples/models/repvgg_shapes.onnx"}
PART = 256


def images(name: str, split: str, count: int, part: int = 0):
    from mcuq.vision import datasets
    if name == "digits":
        x, y = datasets.digits(split, copies=4 if split == "train" else 1)
        start = (part * count) % max(len(y) - count, 1)
        return x[start:start + count], y[start:start + count]
    return datasets.shapes(split, count, part=part)


def calibration_parts(name: str, items: int):
    for part in range(max(items // PART, 1)):
        yield images(name, "train", min(PART, items), part)[0]


def ort_quantize(model: Path, name: str, items: int, method: str, out: Path) -> float:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.parts = calibration_parts(name, items)
            self.current = iter(())

        def get_next(self):
            for _ in range(2):
                item = next(self.current, None)
                if item is not None:
                    return {"image": item[None]}
                part = next(self.parts, None)
                if part is None:
                    return None
                self.current = iter(part)
            return None

    start = time.perf_counter()
    quantize_static(str(model), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8,
                    calibrate_method={"minmax": CalibrationMethod.MinMax,
                                      "entropy": CalibrationMethod.Entropy}[method])
    return time.perf_counter() - start


def ort_logits(model: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"image": x[i:i + 1]})[0] for i in range(len(x))])


def mcuq_quantize(model: Path, name: str, items: int, spec: str):
    from mcuq.calibrate import calibrate
    from mcuq.data import as_sequences
    from mcuq.frontend import load_model
    from mcuq.quantize import assign_precisions, quantize_graph
    from mcuq.vision.evaluate import parse_config

    config = parse_config(spec)
    graph = load_model(model)[1]
    start = time.perf_counter()
    batches = (as_sequences(part, graph.input_shape, False) for part in calibration_parts(name, items))
    stats = calibrate(graph, batches, config["calib_method"])
    qgraph = quantize_graph(graph, stats, "model", assign_precisions(graph, config["precision"]),
                            {"weight_bits": config["weight_bits"], "cfws": config["cfws"]})
    return qgraph, time.perf_counter() - start


def one(args) -> dict:
    """One configuration in this process: calibrate, then score; prints JSON."""
    model = MODELS[args.model]
    x, y = images(args.model, "test", args.test)
    if args.config.startswith("ort-"):
        out = Path(args.scratch) / f"{args.model}_{args.config}_{args.items}.onnx"
        seconds = ort_quantize(model, args.model, args.items, args.config[4:], out)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        logits = ort_logits(out, x) if args.score else None
    else:
        from mcuq.simulate import Simulator
        qgraph, seconds = mcuq_quantize(model, args.model, args.items, args.config)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        logits = (Simulator(qgraph).run(x[:, None]).reshape(len(x), -1) if args.score else None)
    row = {"model": args.model, "config": args.config, "items": args.items,
           "calib_seconds": round(seconds, 2), "peak_rss_mb": round(peak / 1024, 1)}
    if logits is not None:
        reference = ort_logits(model, x)
        noise = np.sum((reference.astype(np.float64) - logits) ** 2)
        row.update({"top1": float((logits.argmax(1) == y).mean()),
                    "agreement": float((logits.argmax(1) == reference.argmax(1)).mean()),
                    "logit_sqnr_db": round(float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2)
                                                               / max(noise, 1e-30))), 2),
                    "fp32_top1": float((reference.argmax(1) == y).mean())})
    print(json.dumps(row))
    return row


def kl_search_seconds() -> dict:
    """Seconds of one 2048-bin threshold search per tensor side, on a signed and a ReLU
    tensor of 10^6 values (the best of 3)."""
    from mcuq.ranges import SignedHistogram, choose_range
    rng = np.random.default_rng(0)
    out = {}
    for name, x in (("signed", rng.standard_normal(10 ** 6)),
                    ("relu", np.maximum(rng.standard_normal(10 ** 6), 0))):
        h = SignedHistogram()
        h.update(x)
        for method in ("kl", "kl-improved"):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                choose_range(h, method)
                times.append(time.perf_counter() - start)
            out[f"{method} {name}"] = round(min(times), 3)
    return out


def run_child(**kw) -> dict:
    cmd = [sys.executable, __file__, "--one"] + [f"--{k}={v}" for k, v in kw.items() if v is not None]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="digits")
    parser.add_argument("--config", default="int8")
    parser.add_argument("--items", type=int, default=256)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--score", type=int, default=1)
    parser.add_argument("--scratch", default="/tmp")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", default="digits,shapes")
    args = parser.parse_args()
    if args.one:
        one(args)
        return
    test = 200 if args.quick else 1000
    items = 64 if args.quick else 256
    methods = ["minmax", "percentile", "mse", "kl", "kl-improved"]
    rows = []
    for model in args.models.split(","):
        for config in ["ort-minmax", "ort-entropy"]:
            rows.append(run_child(model=model, config=config, items=items, test=test))
        for bits in (8, 6, 4):
            for method in methods:
                for cfws in ("", "+cfws"):
                    spec = f"int8+{method}+w{bits}{cfws}"
                    rows.append(run_child(model=model, config=spec, items=items, test=test))
        for config in ("ort-minmax", "ort-entropy", "int8+kl-improved+cfws", "int8+kl"):
            for n in ((256, 4096) if not args.quick else (64, 512)):
                rows.append(run_child(model=model, config=config, items=n, test=test, score=0))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    command = "python bench/repvgg_compare.py " + " ".join(sys.argv[1:])
    search = kl_search_seconds()
    (out / "repvgg_compare.json").write_text(json.dumps(
        {"command": command, "rows": rows, "kl_search_seconds": search}, indent=1) + "\n")
    text = markdown(rows, command) + "\nKL threshold search (2,048 bins, seconds per tensor, both " \
        "sides of a signed tensor): " + ", ".join(f"{k} {v}" for k, v in search.items()) + "\n"
    (out / "repvgg_compare.md").write_text(text)
    print(text)


def markdown(rows, command) -> str:
    lines = [f"# RepVGG post-training quantization: mcuq vs ONNX Runtime", "",
             f"Made by `{command}` (2 cores). Logit SQNR and agreement are against the float "
             "model in ONNX Runtime; ONNX Runtime's rows use its quantize_static (QDQ, "
             "per-channel int8 weights, int8 activations).", ""]
    for model in sorted({r["model"] for r in rows}):
        scored = [r for r in rows if r["model"] == model and "top1" in r]
        fp32 = scored[0]["fp32_top1"]
        lines += [f"## {model} (FP32 top-1 {100 * fp32:.2f}%)", "",
                  "| config | top-1 | Δ top-1 | agreement | logit SQNR (dB) | calibration (s) | peak RSS (MB) |",
                  "|---|---|---|---|---|---|---|"]
        for r in scored:
            lines.append(f"| {r['config']} | {100 * r['top1']:.2f}% | {100 * (r['top1'] - fp32):+.2f} | "
                         f"{100 * r['agreement']:.2f}% | {r['logit_sqnr_db']} | {r['calib_seconds']} | "
                         f"{r['peak_rss_mb']} |")
        memory = [r for r in rows if r["model"] == model and "top1" not in r]
        lines += ["", "Calibration only, by number of calibration items (streamed in parts of 256):",
                  "", "| config | items | calibration (s) | peak RSS (MB) |", "|---|---|---|---|"]
        for r in memory:
            lines.append(f"| {r['config']} | {r['items']} | {r['calib_seconds']} | {r['peak_rss_mb']} |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

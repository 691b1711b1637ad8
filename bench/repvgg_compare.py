"""RepVGG post-training quantization: mcuq's calibration methods, with and without CFWS,
at 8, 6 and 4 weight bits, against ONNX Runtime's quantize_static (QDQ, per-channel
int8 weights, MinMax and Entropy calibration) on the same model, calibration and test
images.

    .venv/bin/python bench/repvgg_compare.py            # both bundled models, ~30 minutes
    .venv/bin/python bench/repvgg_compare.py --quick    # fewer images, for a smoke run

ONNX Runtime quantizes the deploy-time form (each block fused into one 3x3 Conv, as is
deployed; fused in this script apart from mcuq), and, in the rows marked @train, the
train-time form as given (three Convs per block, about 2x the MACs, each branch quantized
on its own). It has no 6-bit weights; its 4-bit rows use QuantType.QInt4. For each
configuration: top-1, top-1 agreement with FP32, logit SQNR against FP32 (ONNX Runtime
on the float model), calibration time (making the images left out) and the peak memory
(RSS) of a process that does only that calibration. The calibration memory is also measured at 256 and
4,096 calibration items, streamed in parts of 256 for both tools. Writes
bench/results/repvgg_compare.{json,md}.
"""
from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"digits": ROOT / "examples/models/repvgg_digits.onnx",
          "shapes": ROOT / "examples/models/repvgg_shapes.onnx"}
PART = 256
GENERATION = {"seconds": 0.0}  # time spent making calibration images, not calibrating


@functools.lru_cache(maxsize=None)
def _digits(split: str):
    from mcuq.vision import datasets
    return datasets.digits(split, copies=4 if split == "train" else 1)


def images(name: str, split: str, count: int, part: int = 0):
    from mcuq.vision import datasets
    if name == "digits":
        x, y = _digits(split)
        start = (part * count) % max(len(y) - count, 1)
        return x[start:start + count], y[start:start + count]
    return datasets.shapes(split, count, part=part)


def calibration_parts(name: str, items: int):
    """The calibration images in parts of PART, made as they are read (memory stays flat);
    the time to make them is kept in GENERATION and left out of the calibration time."""
    for part in range(max(items // PART, 1)):
        start = time.perf_counter()
        x = images(name, "train", min(PART, items), part)[0]
        GENERATION["seconds"] += time.perf_counter() - start
        yield x


def deploy_form(model: Path, out: Path) -> Path:
    """The deploy-time (fused) form of a bundled train-time RepVGG ONNX file, fused here
    apart from mcuq: each block's 3x3 and 1x1 Conv (the exporter already folded their
    BatchNorms) and its identity BatchNorm summed into one 3x3 kernel, then exported by
    PyTorch. ONNX Runtime quantizes what would be deployed, as mcuq does."""
    import onnx
    import torch
    from onnx import numpy_helper

    from mcuq.vision.models import RepVGG

    graph = onnx.load(str(model)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    channels = init[convs[0].input[1]].shape[1]
    net = RepVGG(channels, 10, width=0.25).deploy()
    assert len(convs) == 2 * len(net.blocks)
    for i, block in enumerate(net.blocks):
        dense, point = convs[2 * i], convs[2 * i + 1]
        w = init[dense.input[1]].astype(np.float64).copy()
        b = init[dense.input[2]].astype(np.float64) + init[point.input[2]]
        w[:, :, 1, 1] += init[point.input[1]][:, :, 0, 0]
        if f"blocks.{i}.identity.weight" in init:
            g, beta, mean, var = (init[f"blocks.{i}.identity.{k}"].astype(np.float64)
                                  for k in ("weight", "bias", "running_mean", "running_var"))
            scale = g / np.sqrt(var + 1e-5)
            w[np.arange(len(scale)), np.arange(len(scale)), 1, 1] += scale
            b += beta - mean * scale
        block.fused.weight.data = torch.from_numpy(w.astype(np.float32))
        block.fused.bias.data = torch.from_numpy(b.astype(np.float32))
    net.head[2].weight.data = torch.from_numpy(init["head.2.weight"])
    net.head[2].bias.data = torch.from_numpy(init["head.2.bias"])
    torch.onnx.export(net.eval(), (torch.zeros(1, channels, 32, 32),), str(out), dynamo=False,
                      input_names=["image"], output_names=["logits"])
    x = np.random.default_rng(0).uniform(0, 1, (8, channels, 32, 32)).astype(np.float32)
    difference = np.abs(ort_logits(out, x) - ort_logits(model, x)).max()
    if difference > 1e-3:
        raise SystemExit(f"the fused form of {model} differs from it by {difference}")
    return out


def deploy_path(name: str, scratch: str) -> Path:
    return Path(scratch) / f"{name}_deploy.onnx"


def ort_quantize(model: Path, name: str, items: int, method: str, out: Path,
                 weight_bits: int = 8) -> float:
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
                    weight_type=QuantType.QInt4 if weight_bits == 4 else QuantType.QInt8,
                    calibrate_method={"minmax": CalibrationMethod.MinMax,
                                      "entropy": CalibrationMethod.Entropy}[method])
    return time.perf_counter() - start - GENERATION["seconds"]


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
    return qgraph, time.perf_counter() - start - GENERATION["seconds"]


def one(args) -> dict:
    """One configuration in this process: calibrate, then score; prints JSON."""
    model = MODELS[args.model]
    x, y = images(args.model, "test", args.test)
    if args.config.startswith("ort-"):
        out = Path(args.scratch) / f"{args.model}_{args.config}_{args.items}.onnx"
        spec, _, form = args.config[4:].partition("@")
        method, _, bits = spec.partition("+w")
        source = model if form == "train" else deploy_path(args.model, args.scratch)
        seconds = ort_quantize(source, args.model, args.items, method, out, int(bits or 8))
        peak = peak_rss_kb()
        logits = ort_logits(out, x) if args.score else None
    else:
        from mcuq.simulate import Simulator
        qgraph, seconds = mcuq_quantize(model, args.model, args.items, args.config)
        peak = peak_rss_kb()
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


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM: unlike getrusage's ru_maxrss it
    starts afresh at exec, so a child does not inherit its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")


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
        deploy_form(MODELS[model], deploy_path(model, args.scratch))  # once, for the children
        for config in ["ort-minmax", "ort-entropy", "ort-minmax+w4", "ort-entropy+w4",
                       "ort-minmax@train", "ort-minmax+w4@train"]:
            rows.append(run_child(scratch=args.scratch, model=model, config=config, items=items, test=test))
        for bits in (8, 6, 4):
            for method in methods:
                for cfws in ("", "+cfws"):
                    spec = f"int8+{method}+w{bits}{cfws}"
                    rows.append(run_child(scratch=args.scratch, model=model, config=spec, items=items, test=test))
        for config in ("ort-minmax", "ort-entropy", "int8+kl-improved+cfws", "int8+kl"):
            for n in ((256, 4096) if not args.quick else (64, 512)):
                rows.append(run_child(scratch=args.scratch, model=model, config=config, items=n, test=test, score=0))
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

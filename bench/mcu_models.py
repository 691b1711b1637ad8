"""The networks MCU users deploy, end to end at 32x32: RepVGG-A0 (stage depths of A0),
MobileOne-S0 (train-time form, k = 4) and MobileNetV2, as mcuq.vision.models writes them
(each from its paper; timm and torchvision cannot be installed beside the pinned torch
2.13.0), at half width, trained here for a few epochs on CPU (no weights are downloaded)
and exported in their train-time form (mcuq re-parameterizes RepVGG and MobileOne).

For each network and precision: the float model against ONNX Runtime (max |difference|
of the logits), test top-1 of the float model and of the quantized simulator, the logit
SQNR and top-1 agreement of the simulator against ONNX Runtime's float logits, the
layers after fusion, and whether the C is bit-exact with the simulator on the host (1
and 8 cores) and on QEMU (1 and 8 cores).

    .venv/bin/python bench/mcu_models.py            # 10 epochs, 500 test images, ~15 minutes
    .venv/bin/python bench/mcu_models.py --quick    # 1 epoch on 512 images, 64 test images

Images: mcuq.vision.datasets.shapes (10 classes of coloured shapes on noise), 2,000 to
train, 128 of those to calibrate, the test images apart. Writes
bench/results/mcu_models.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def networks():
    from mcuq.vision.models import MobileNetV2, MobileOne, RepVGG
    return {"RepVGG-A0 x0.5": lambda: RepVGG(width=0.5),
            "MobileOne-S0 x0.5": lambda: MobileOne(width=0.5),
            "MobileNetV2 x0.5": lambda: MobileNetV2(width=0.5)}


def build(make, train: tuple, epochs: int, path: Path) -> Path:
    import torch

    from mcuq.vision.train import train as fit
    torch.manual_seed(0)
    model = fit(make(), *train, epochs=epochs, log=lambda line: print("  " + line, flush=True))
    torch.onnx.export(model.eval(), (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False,
                      input_names=["image"], output_names=["logits"])
    return path


def ort_logits(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"image": item[None]})[0] for item in x])


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref.astype(np.float64) ** 2)
                               / max(np.sum((ref.astype(np.float64) - got) ** 2), 1e-30)))


def measure(name: str, make, train: tuple, epochs: int, test: tuple, scratch: Path) -> dict:
    from codegen.memory import MemoryTarget
    from mcuq.export import export
    from mcuq.pipeline import import_model
    from mcuq.qgraph import QGraph
    from mcuq.reference import FloatModel
    from mcuq.simulate import Simulator
    from mcuq.verify import verify

    calib, (test, labels) = train[0][:128], test
    path = build(make, train, epochs, scratch / "model.onnx")
    reference = ort_logits(path, test)
    _, graph = import_model(path, calib)
    mcuq_float = FloatModel(graph).run(test[:, None])[:, 0]
    row = {"network": name, "float_max_abs_diff": float(np.abs(mcuq_float - reference).max()),
           "float_top1": float(np.mean(reference.argmax(1) == labels)),
           "layers": len(graph.layers),
           "kinds": {k: [lay.kind for lay in graph.layers].count(k)
                     for k in sorted({lay.kind for lay in graph.layers})},
           "precisions": {}}
    np.save(scratch / "calib.npy", calib)
    for precision in ("int8", "fp16"):
        out = scratch / precision
        start = time.perf_counter()
        # quality, not memory: every weight in place (fp16 RepVGG-A0's 3.4 MB of weights
        # do not fit the default GAP9 target; bench/memory_streaming.py measures that)
        export(path, scratch / "calib.npy", out, precision=precision, cores=8,
               memory=MemoryTarget(l1=64 << 20, l2=64 << 20, nvm=64 << 20))
        qgraph = QGraph.load(out)
        logits = Simulator(qgraph).run(test[:, None])[:, 0]
        checks = {f"{target}_{cores}": verify(out, target, test[:2], cores=cores)["bit_exact"]
                  for target in ("host", "qemu") for cores in (1, 8)}
        row["precisions"][precision] = {
            "logit_sqnr_db": round(sqnr_db(reference, logits), 2),
            "top1": float(np.mean(logits.argmax(1) == labels)),
            "top1_agreement": float(np.mean(logits.argmax(1) == reference.argmax(1))),
            "bit_exact": checks, "seconds": round(time.perf_counter() - start, 1)}
    return row


def markdown(rows: list, command: str, count: int, epochs: int) -> str:
    lines = [f"# MCU networks end to end (32x32, trained {epochs} epochs, {count} test images)", "",
             f"Command: `{command}`", "",
             "| network | layers after fusion | float vs ORT (max abs) | float top-1 | precision "
             "| top-1 | logit SQNR (dB) | top-1 agreement | bit-exact host 1/8, QEMU 1/8 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for p, m in r["precisions"].items():
            exact = " ".join("yes" if m["bit_exact"][k] else "NO"
                             for k in ("host_1", "host_8", "qemu_1", "qemu_8"))
            lines.append(f"| {r['network']} | {r['layers']} | {r['float_max_abs_diff']:.1e} "
                         f"| {100 * r['float_top1']:.1f}% | {p} | {100 * m['top1']:.1f}% "
                         f"| {m['logit_sqnr_db']:.1f} | {100 * m['top1_agreement']:.1f}% | {exact} |")
    lines += ["", "Layers after fusion, by kind:", ""]
    lines += [f"- {r['network']}: " + ", ".join(f"{k} {v}" for k, v in r["kinds"].items()) for r in rows]
    lines += ["", "A few epochs on CPU make the networks decide, not reach their accuracy: "
              "top-1 agreement is how often quantization changes the float model's choice. "
              "A network whose float top-1 stays near chance (10%) did not learn in these "
              "epochs (MobileOne's 43 plain layers need the paper's long warm-up): its figures "
              "are an untrained network's, whose deep random layers amplify any perturbation, "
              "quantization noise included (per-layer SQNR in its export report falls by about "
              "1.2 dB per layer), and say little about a trained one.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from mcuq.vision import datasets
    count, epochs, items = (64, 1, 512) if args.quick else (500, 10, 2000)
    train = datasets.shapes("train", items)
    test = datasets.shapes("test", count)
    rows = []
    for name, make in networks().items():
        print(name, flush=True)
        with tempfile.TemporaryDirectory() as d:
            rows.append(measure(name, make, train, epochs, test, Path(d)))
        print(json.dumps(rows[-1]), flush=True)
    command = "python bench/mcu_models.py" + (" --quick" if args.quick else "")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "mcu_models.json").write_text(json.dumps({"command": command, "images": count,
                                                         "epochs": epochs, "rows": rows},
                                                        indent=1) + "\n")
    (results / "mcu_models.md").write_text(markdown(rows, command, count, epochs))
    print(markdown(rows, command, count, epochs))


if __name__ == "__main__":
    main()

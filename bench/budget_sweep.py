"""Benchmark: precision under a budget (--budget-weights, --budget-cycles) against the fixed
recipes (fp16, int8 and, for the speech model, mixed: recurrent layers int8, the rest
fp16), for the paper-size LSTM-256 (PESQ) and the digits RepVGG (top-1).

    .venv/bin/python bench/budget_sweep.py [--clips 20] [--images 400]

Per configuration: the C's weight bytes, the cycles per frame on the 8-core critical path
(QEMU instructions of the rv32 kernels, one per cycle: the cost model the cycle budget
uses), and the quality: PESQ-WB of the simulator's enhanced test clips (the corpus's test
split, first --clips clips; `mcuq corpus data/speech` if missing), or top-1 on the first
--images digits of the test split. Four weight budgets lie evenly between the int8 and the
fp16 sizes, two cycle budgets between the int8 and the fp16 counts. Writes
bench/results/budget_sweep.{json,md}. The target is GAP9's but with 4 MiB of
non-volatile memory (GAP9: 2 MiB), or the fp16 LSTM-256 would not export at all.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "data" / "speech"
CORES = 8
FRAMES = 3
# GAP9's L1 and L2, and a non-volatile memory of 4 MiB (GAP9: 2), so that the fp16 LSTM-256
# (2.4 MiB of weights) exports as the reference the budgets are measured against


def _memory():
    from codegen.memory import MemoryTarget

    return MemoryTarget(nvm=4 * 1024 * 1024)


MEMORY = _memory()


def run(model: Path, calib: Path, out: Path, frames: np.ndarray, score, **options) -> dict:
    from mcuq.bench import bench
    from mcuq.export import export
    from mcuq.qgraph import QGraph

    report = export(model, calib, out, cores=CORES, memory=MEMORY, **options)
    cycles = bench(out, [CORES], frames)["critical_path_instructions"][str(CORES)]
    q = QGraph.load(out)
    int8 = [layer.name for layer in q.layers if layer.params["precision"] == "int8"
            and layer.kind != "convert"]
    return {"weight_bytes": report["weight_bytes"], "cycles": cycles, "score": score(q),
            "int8_layers": int8, "layers": len([la for la in q.layers if la.kind != "convert"]),
            "budget": report.get("budget")}


def sweep(name: str, model: Path, calib: Path, frames: np.ndarray, score, recipes, tmp: Path
          ) -> list[dict]:
    from mcuq.budget import Budget

    rows = []
    fixed = {}
    for recipe in recipes:
        fixed[recipe] = run(model, calib, tmp / f"{name}-{recipe}", frames, score,
                            precision=recipe)
        rows.append({"model": name, "config": recipe, **fixed[recipe]})
        print(name, rows[-1]["config"], rows[-1]["weight_bytes"], rows[-1]["cycles"],
              rows[-1]["score"], flush=True)
    lo, hi = fixed["int8"]["weight_bytes"], fixed["fp16"]["weight_bytes"]
    budgets = [("weights", int(lo + (hi - lo) * f)) for f in (0.1, 0.35, 0.6, 0.85)]
    clo, chi = sorted((fixed["int8"]["cycles"], fixed["fp16"]["cycles"]))
    budgets += [("cycles", int(clo + (chi - clo) * f) + 1) for f in (0.25, 0.75)]
    for kind, value in budgets:
        budget = Budget(weights=value) if kind == "weights" else Budget(cycles=value)
        row = run(model, calib, tmp / f"{name}-{kind}-{value}", frames, score, budget=budget)
        rows.append({"model": name, "config": f"--budget-{kind} {value}", "budget_kind": kind,
                     "budget_value": value, **row})
        print(name, rows[-1]["config"], row["weight_bytes"], row["cycles"], row["score"],
              flush=True)
    return rows


def main() -> None:
    from mcuq.speech.corpus import generate
    from mcuq.speech.data import calibration_array
    from mcuq.speech.robustness import Enhancement
    from mcuq.vision.datasets import digits
    from mcuq.vision.robustness import Classification

    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()
    if not (DATA / "manifest.json").is_file():
        generate(DATA)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        speech = calibration_array(DATA, "calib")
        np.save(tmp / "speech.npy", speech)
        scorer = {}

        def pesq(q):
            scorer.setdefault("pesq", Enhancement(q, DATA, "test", args.clips, "pesq"))
            return scorer["pesq"].score(q)

        rows += sweep("lstm256", ROOT / "examples" / "models" / "lstm256.onnx",
                      tmp / "speech.npy", speech[0, :FRAMES], pesq, ("fp16", "mixed", "int8"),
                      tmp)
        np.save(tmp / "digits.npy", digits("train")[0][:256].astype(np.float32))
        test = digits("test")[0][:1].astype(np.float32)

        def top1(q):
            scorer.setdefault("top1", Classification(q, "digits:test", args.images))
            return 100.0 - scorer["top1"].score(q)

        rows += sweep("repvgg_digits", ROOT / "examples" / "models" / "repvgg_digits.onnx",
                      tmp / "digits.npy", test, top1, ("fp16", "int8"), tmp)
    command = (f".venv/bin/python bench/budget_sweep.py --clips {args.clips} "
               f"--images {args.images}")
    doc = {"command": command, "cores": CORES, "clips": args.clips, "images": args.images,
           "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "budget_sweep.json").write_text(json.dumps(doc, indent=1) + "\n")
    (RESULTS / "budget_sweep.md").write_text(markdown(doc))
    print(markdown(doc))


def markdown(doc: dict) -> str:
    lines = ["# Precision under a budget against the fixed recipes", "",
             f"Made by `{doc['command']}`. Weight bytes: the generated C's. Cycles: "
             f"instructions per frame of the busiest of {doc['cores']} cluster cores per "
             "layer, summed, counted by QEMU for the rv32 kernels (one instruction per "
             "cycle; the cost model `--budget-cycles` uses), mean over "
             f"{FRAMES} frames. Quality: PESQ-WB of the simulator's enhanced clips (LSTM-256, "
             f"first {doc['clips']} test clips of the corpus) or top-1 (%) of the digits "
             f"RepVGG on the first {doc['images']} test digits. A budget's int8 layers are "
             "listed; every other layer is fp16. Target: GAP9's L1 and L2 with 4 MiB of "
             "non-volatile memory (GAP9 has 2 MiB, which the fp16 LSTM-256 does not fit).",
             "",
             "| model | configuration | weight bytes | fp16 bytes / these | cycles/frame | quality | "
             "int8 layers |", "|---|---|---|---|---|---|---|"]
    fp16 = {r["model"]: r["weight_bytes"] for r in doc["rows"] if r["config"] == "fp16"}
    for r in doc["rows"]:
        int8 = ("all" if len(r["int8_layers"]) == r["layers"] else
                ", ".join(r["int8_layers"]) or "none")
        quality = f"PESQ {r['score']:.3f}" if r["model"] == "lstm256" else f"{r['score']:.2f}%"
        lines.append(f"| {r['model']} | {r['config']} | {r['weight_bytes']:,} | "
                     f"{fp16[r['model']] / r['weight_bytes']:.2f}x | "
                     f"{r['cycles']:,.0f} | {quality} | {int8} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

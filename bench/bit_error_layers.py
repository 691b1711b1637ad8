"""Where bit errors hurt: the digits RepVGG with bit errors in one layer's weights at a time
(every other layer clean), top-1 error over a few seeded patterns per layer, at one rate.

    .venv/bin/python bench/bit_error_layers.py --scratch /tmp/bel               # 8-bit, 1e-3
    .venv/bin/python bench/bit_error_layers.py --scratch /tmp/bel --cfws --rate 1e-3

Writes bench/results/bit_error_layers[_cfws].{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from repvgg_compare import images  # noqa: E402

MODEL = ROOT / "examples" / "models" / "repvgg_digits.onnx"


def main() -> None:
    from mcuq import bit_errors
    from mcuq.export import export
    from mcuq.qgraph import QGraph
    from mcuq.vision.robustness import Classification

    parser = argparse.ArgumentParser()
    parser.add_argument("--scratch", required=True)
    parser.add_argument("--rate", type=float, default=1e-3)
    parser.add_argument("--patterns", type=int, default=4)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--cfws", action="store_true")
    args = parser.parse_args()
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    np.save(scratch / "calib.npy", images("digits", "train", 256)[0])
    x, y = images("digits", "test", args.items)
    np.savez(scratch / "test.npz", x=x, labels=y)
    out = scratch / ("cfws" if args.cfws else "plain")
    export(MODEL, scratch / "calib.npy", out, force=True, cfws=args.cfws)
    qgraph = QGraph.load(out)
    task = Classification(qgraph, str(scratch / "test.npz"), None)
    clean = task.score(qgraph)
    by_layer: dict[int, list] = {}
    for site in bit_errors.sites(qgraph):
        by_layer.setdefault(site.layer, []).append(site)
    rows = []
    for index, sites in by_layer.items():
        errors = [task.score(bit_errors.flipped(qgraph, sites, 0, pattern, args.rate)[0])
                  for pattern in range(args.patterns)]
        layer = qgraph.layers[index]
        rows.append({"layer": layer.name, "kind": layer.kind,
                     "stored_bits": sum(s.total_bits for s in sites),
                     "mean_error": round(float(np.mean(errors)), 2),
                     "errors": [round(e, 2) for e in errors]})
        print(rows[-1], flush=True)
    suffix = "_cfws" if args.cfws else ""
    command = (f"python bench/bit_error_layers.py --scratch {args.scratch} --rate {args.rate:g}"
               + (" --cfws" if args.cfws else ""))
    lines = [f"# Bit errors one layer at a time: digits RepVGG, 8-bit{', CFWS' if args.cfws else ''}",
             "", f"`{command}`: bit error rate {args.rate:g} in one layer's stored weights, "
             f"every other layer clean; top-1 error (%) on {args.items} test images, "
             f"{args.patterns} patterns (seed 0). Without bit errors: {clean:.2f}%.", "",
             "| layer | kind | stored bits | mean error | per pattern |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['layer']} | {row['kind']} | {row['stored_bits']:,} | "
                     f"{row['mean_error']:.1f} | {', '.join(f'{e:.1f}' for e in row['errors'])} |")
    results = ROOT / "bench" / "results"
    (results / f"bit_error_layers{suffix}.json").write_text(json.dumps(
        {"command": command, "clean": clean, "rate": args.rate, "rows": rows}, indent=1) + "\n")
    (results / f"bit_error_layers{suffix}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

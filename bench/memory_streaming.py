"""Benchmark: weights streamed from L2 into L1 by DMA (double-buffered tiles) against the
same model with every weight in place, in cycles on the CV32E40P RTL, 8-core critical
path, for the paper-size LSTM-256 and GRU-256 (int8, --isa xcv).

    .venv/bin/python bench/memory_streaming.py      (about 8 minutes on 2 cores)

Per model and L1 size: the placement (`mcuq report`'s memory figures: L1 use, bytes
moved per frame, the planned arena against every buffer apart), the RTL cycles of every
layer, each build checked bit-exact against the simulator, and the transfer time of the
streamed bytes modelled at 8 bytes per cycle beside the cores. "In place" gives the
target an L1 large enough for every weight, so nothing streams. Writes
bench/results/memory_streaming.{json,md}.

What the figures are: the RTL has one core and single-cycle memory; an 8-core figure
runs each core's share in turn and sums the busiest core of each barrier phase (a
streamed layer has one phase per tile). The port's DMA is a copy that the counts leave
out, so the cycles show what tiling costs the cores (the loop, a barrier per tile, the
transfers' set-up), not whether the transfers hide: that is the modelled figure.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from codegen.memory import MemoryTarget
from mcuq.bench import bench_rtl
from mcuq.export import export
from mcuq.speech.corpus import generate
from mcuq.speech.data import calibration_array

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "data" / "speech"
FRAMES = 3
CORES = 8
COMMAND = ".venv/bin/python bench/memory_streaming.py"
MODELS = ["lstm256", "gru256"]
# (name, L1 bytes): GAP9's 128 KiB, twice that, and enough for every weight
L1 = [("in place", 4 * 1024 * 1024), ("GAP9 L1, 128 KiB", 128 * 1024),
      ("L1 256 KiB", 256 * 1024)]


def main() -> None:
    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not (DATA / "manifest.json").is_file():
            generate(DATA)
        speech = calibration_array(DATA, "calib")
        np.save(Path(tmp) / "speech.npy", speech)
        for model in MODELS:
            for label, l1 in L1:
                out = Path(tmp) / f"{model}-{l1}"
                report = export(ROOT / "examples" / "models" / f"{model}.onnx",
                                Path(tmp) / "speech.npy", out, cores=CORES, precision="int8",
                                isa="xcv", memory=MemoryTarget(l1=l1))
                result = bench_rtl(out, [CORES], speech[0, :FRAMES], scalar=False)
                rows.append({"model": model, "l1_label": label, "l1": l1,
                             "weight_bytes": report["weight_bytes"],
                             "arena_bytes": report["arena_bytes"],
                             "arena_naive_bytes": report["arena_naive_bytes"],
                             "memory": report["memory"], "bench": result})
                print(f"{model}, {label}: {result['critical_path_cycles'][str(CORES)]:.0f} "
                      f"cycles/frame on {CORES} cores, {report['memory']['bytes_moved']} bytes "
                      "streamed per frame", flush=True)
    doc = {"command": COMMAND, "frames": FRAMES, "cores": CORES,
           "verilator": subprocess.run(["verilator", "--version"], capture_output=True,
                                       text=True).stdout.strip(),
           "clang": subprocess.run(["clang-19", "--version"], capture_output=True,
                                   text=True).stdout.splitlines()[0],
           "python": platform.python_version(), "results": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory_streaming.json").write_text(json.dumps(doc, indent=1) + "\n")
    (RESULTS / "memory_streaming.md").write_text(markdown(doc))


def markdown(doc: dict) -> str:
    k = str(doc["cores"])
    lines = ["# Weights streamed L2 -> L1 against weights in place, CV32E40P RTL", "",
             f"Made by `{doc['command']}` ({doc['verilator']}, {doc['clang']}): int8, --isa "
             f"xcv, {doc['cores']} cores, the mean over {doc['frames']} frames of the speech "
             "corpus's calib split; every build bit-exact with the simulator. Cycles: the "
             "busiest core of each barrier phase, summed; the port's DMA copies are left "
             "out of them and modelled instead at 8 bytes per cycle beside the cores "
             "(\"not hidden\": the first tile of each layer, and whatever the transfers take "
             "beyond the compute they run beside).", "",
             "| model | L1 | weights B | L1 used B | stream buffer B | streamed B/frame | "
             "arena B (naive) | cycles/frame | vs in place | DMA cycles (model) | "
             "not hidden |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    base = {}
    for r in doc["results"]:
        cycles = r["bench"]["critical_path_cycles"][k]
        base.setdefault(r["model"], cycles)
        mem = r["memory"]
        dma = sum(row["dma"][k]["dma_cycles"] for row in r["bench"]["layers"] if "dma" in row)
        exposed = sum(row["dma"][k]["exposed_dma_cycles"] for row in r["bench"]["layers"]
                      if "dma" in row)
        lines.append(f"| {r['model']} | {r['l1_label']} | {r['weight_bytes']:,} | "
                     f"{mem['used']['l1']:,} | {mem['stream_bytes']:,} | "
                     f"{mem['bytes_moved']:,} | {r['arena_bytes']:,} "
                     f"({r['arena_naive_bytes']:,}) | {cycles:,.0f} | "
                     f"{100 * (cycles / base[r['model']] - 1):+.1f}% | {dma:,.0f} | "
                     f"{exposed:,.0f} |")
    lines += ["", "Per layer (cycles per frame; tile: units per tile / units):", "",
              "| model | L1 | layer | weights at | tile | cycles | streamed B | DMA cycles | "
              "not hidden |", "|---|---|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        placed = r["memory"]["layers"]
        for row in r["bench"]["layers"]:
            p = placed.get(row["layer"], {})
            tile = f"{p['tile_units']}/{p['units']}" if p.get("streamed") else "-"
            dma = row.get("dma", {}).get(k, {})
            lines.append(f"| {r['model']} | {r['l1_label']} | {row['layer']} | "
                         f"{p.get('weights', '-').upper()} | {tile} | "
                         f"{row['cycles'][k]:,.0f} | {p.get('bytes_moved', 0):,} | "
                         f"{dma.get('dma_cycles', 0):,.0f} | "
                         f"{dma.get('exposed_dma_cycles', 0):,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the int8 convolution and depthwise kernels, per layer group and whole
network, in cycles on the CV32E40P RTL (--isa xcv, 1 core and the 8-core critical path)
and in instructions on QEMU (--isa rv32, the scalar kernels), against the kernels of an
earlier revision.

    .venv/bin/python bench/conv_rtl.py [--against REV]      (about 12 minutes on 2 cores)

Networks: the bundled digits RepVGG (32x32, 1 channel), RepVGG-A0 at half width (A0's
stage depths, deploy form) at 32x32 and 64x64, MobileOne-S0 at half width (deploy form)
at 32x32 and 64x64, and one depthwise 3x3 layer on a 16x16 map of 48 channels and on a
32x32 map of 24 (after a 1x1 convolution from the 3 image channels), from
mcuq.vision.models (timm cannot be installed beside the pinned torch), with seeded
random weights (cycles do not depend on them), calibrated on 32 images of
mcuq.vision.datasets.shapes, int8. Each build is checked bit-exact with the simulator.
With --against REV (default: the revision before this session's kernel work), the same
networks run with that revision's code from a git worktree, for the "before" columns.
Writes bench/results/conv_rtl.{json,md}.

Layer groups: the stem (the first convolution, unless 1x1), 3x3 convolutions with at
least 32 input channels, other 3x3 convolutions, 1x1 convolutions, depthwise 3x3
(stride 1 and 2 apart), and the rest (pooling, flatten, the classifier).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BEFORE = "43ab0a5"  # the last revision with the previous convolution and depthwise kernels
COMMAND = ".venv/bin/python bench/conv_rtl.py"
NETWORKS = [("repvgg_digits", 32), ("repvgg_a0_x0.5", 32), ("repvgg_a0_x0.5", 64),
            ("mobileone_s0_x0.5", 32), ("mobileone_s0_x0.5", 64), ("depthwise_48ch", 16),
            ("depthwise_24ch", 32)]
GROUPS = ["stem", "3x3, >= 32 in", "3x3, < 32 in", "1x1", "depthwise 3x3 s1",
          "depthwise 3x3 s2", "other"]


def network_file(name: str, size: int, folder: Path) -> tuple[Path, int]:
    import torch

    from mcuq.vision.models import MobileOne, RepVGG

    if name == "repvgg_digits":
        return ROOT / "examples" / "models" / "repvgg_digits.onnx", 1
    torch.manual_seed(0)
    if name.startswith("depthwise"):  # one depthwise 3x3 layer (and its ReLU) on a larger map
        channels = int(name.split("_")[1][:-2])
        model = torch.nn.Sequential(torch.nn.Conv2d(3, channels, 1),
                                    torch.nn.Conv2d(channels, channels, 3, padding=1,
                                                    groups=channels), torch.nn.ReLU())
    else:
        model = (RepVGG(width=0.5) if name.startswith("repvgg")
                 else MobileOne(width=0.5)).deploy()
    path = folder / f"{name}_{size}.onnx"
    torch.onnx.export(model.eval(), (torch.zeros(1, 3, size, size),), str(path), dynamo=False)
    return path, 3


def group_of(layer: dict, index: int) -> str:
    p = layer["params"]
    if layer["kind"] == "depthwise_conv2d" and (p.get("kernel_h"), p.get("kernel_w")) == (3, 3):
        return f"depthwise 3x3 s{p['stride_h']}"
    if layer["kind"] != "conv2d":
        return "other"
    if (p["kernel_h"], p["kernel_w"]) == (1, 1):
        return "1x1"
    if index == 0:
        return "stem"
    return "3x3, >= 32 in" if p["in_channels"] >= 32 else "3x3, < 32 in"


def measure() -> dict:
    """The networks with the mcuq that is importable (this checkout, or a worktree's)."""
    import numpy as np

    from codegen.memory import MemoryTarget
    from mcuq.bench import bench, bench_rtl
    from mcuq.export import export
    from mcuq.qgraph import QGraph
    from mcuq.vision.datasets import shapes

    in_place = MemoryTarget(l1=64 * 1024 * 1024, l2=64 * 1024 * 1024, nvm=64 * 1024 * 1024)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, size in NETWORKS:
            path, channels = network_file(name, size, tmp)
            images = shapes("train", count=33, size=size)[0].astype(np.float32)
            if channels == 1:
                images = images.mean(axis=1, keepdims=True)
            np.save(tmp / "calib.npy", images[:32])
            row = {"network": name, "size": size, "layers": []}
            for isa in ("xcv", "rv32"):
                export(path, tmp / "calib.npy", tmp / isa, cores=8, precision="int8", isa=isa,
                       memory=in_place, force=True)
                q = QGraph.load(tmp / isa)
                if isa == "xcv":
                    result = bench_rtl(tmp / isa, [1, 8], images[32:33], scalar=False)
                    for i, (layer, counts) in enumerate(zip(q.layers, result["layers"])):
                        row["layers"].append({
                            "layer": layer.name, "kind": layer.kind, "macs": counts["macs"],
                            "group": group_of({"kind": layer.kind, "params": layer.params}, i),
                            "cycles_1": counts["cycles"]["1"], "cycles_8": counts["cycles"]["8"]})
                else:
                    result = bench(tmp / isa, [1], images[32:33])
                    for layer, counts in zip(row["layers"], result["layers"]):
                        layer["rv32_instructions"] = counts["critical_path_instructions"]["1"]
            out.append(row)
            print(f"{name} {size}x{size}: done", file=sys.stderr, flush=True)
    return {"networks": out}


def summary(rows: list[dict]) -> dict:
    """Per group and in all: MACs, cycles (1 and 8 cores) and rv32 instructions."""
    groups = {}
    for layer in rows:
        for key in (layer["group"], "network"):
            g = groups.setdefault(key, {"macs": 0, "cycles_1": 0.0, "cycles_8": 0.0,
                                        "rv32_instructions": 0.0})
            for field in g:
                g[field] += layer[field]
    return groups


def measure_against(rev: str) -> dict:
    """measure() in a worktree of `rev`, with this script."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                       check=True, capture_output=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure"],
                                 cwd=tree, env=env, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"measuring {rev} failed: {run.stderr.strip()[-2000:]}")
            return json.loads(run.stdout)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def markdown(doc: dict) -> str:
    lines = ["# Convolution and depthwise kernels: RTL cycles (xcv) and QEMU instructions (rv32)",
             "", f"Made by `{doc['command']}`, against `{doc['against']}` (the kernels before this "
             "work). int8; random weights; one 32x32 or 64x64 image. RTL: the CV32E40P, "
             "single-cycle memory; 8 cores: each core's share in turn on the one core, the "
             "busiest core of each barrier phase summed. MAC/cycle per core = MACs / (cores x "
             "cycles). rv32: instructions on QEMU, 1 core. Every build bit-exact with the "
             "simulator.", "",
             "| network | group | MACs | MAC/cycle 1 core | before | MAC/cycle per core, 8 | "
             "before | 8-core speedup | before | rv32 instructions | before |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for now, old in zip(doc["now"]["networks"], doc["before"]["networks"]):
        a, b = summary(now["layers"]), summary(old["layers"])
        for key in GROUPS + ["network"]:
            if key not in a:
                continue
            g, h = a[key], b[key]
            label = "**whole network**" if key == "network" else key
            lines.append(
                f"| {now['network']} {now['size']}x{now['size']} | {label} | {g['macs']:,} | "
                f"{ratio(g['macs'], g['cycles_1'])} | {ratio(h['macs'], h['cycles_1'])} | "
                f"{ratio(g['macs'], 8 * g['cycles_8'])} | {ratio(h['macs'], 8 * h['cycles_8'])} | "
                f"{ratio(g['cycles_1'], g['cycles_8'])} | {ratio(h['cycles_1'], h['cycles_8'])} | "
                f"{g['rv32_instructions']:,.0f} | {h['rv32_instructions']:,.0f} |")
    lines += ["", "Per layer (cycles, xcv; the layers no slower than before are not marked):", "",
              "| network | layer | group | MACs | 1 core | before | 8 cores | before |",
              "|---|---|---|---|---|---|---|---|"]
    for now, old in zip(doc["now"]["networks"], doc["before"]["networks"]):
        for x, y in zip(now["layers"], old["layers"]):
            slower = " **slower**" if (x["cycles_1"] > y["cycles_1"] * 1.005
                                      or x["cycles_8"] > y["cycles_8"] * 1.005) else ""
            lines.append(f"| {now['network']} {now['size']} | {x['layer']} | {x['group']} | "
                         f"{x['macs']:,} | {x['cycles_1']:,.0f} | {y['cycles_1']:,.0f} | "
                         f"{x['cycles_8']:,.0f} | {y['cycles_8']:,.0f}{slower} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=BEFORE)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure()))
        return
    doc = {"command": COMMAND + (f" --against {args.against}" if args.against != BEFORE else ""),
           "against": args.against, "now": measure(), "before": measure_against(args.against)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "conv_rtl.json").write_text(json.dumps(doc, indent=1) + "\n")
    text = markdown(doc)
    (RESULTS / "conv_rtl.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

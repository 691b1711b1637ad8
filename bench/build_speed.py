"""Benchmark: how long a RepVGG-A0-size model takes to export and to build for the host.

    .venv/bin/python bench/build_speed.py          (about a minute)

Builds RepVGG-A0's deploy form (one 3x3 convolution per block, stage widths 48, 48, 96,
192, 1280 and depths 1, 2, 4, 14, 1, a 10-class head: 7.0 M parameters) with random
weights, exports it at int8 for 32x32 images (calibrated on 8 random images; 7 MB of
weights do not fit GAP9's 2 MiB MRAM, so the target has a 16 MiB flash), then times
`mcuq verify --target host` (gcc -O2 with UBSan, without ccache: the generated C, the
kernels, and the harness; then one run, compared with the simulator) and, alone, the compile of the
generated weights file. Weight arrays of bytes are written as string literals
(codegen.generate.c_initializer); the figure for a list of numbers, as before, is
measured on the same array. Writes bench/results/build_speed.{json,md}.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WIDTHS = (48, 48, 96, 192, 1280)
DEPTHS = (1, 2, 4, 14, 1)
COMMAND = ".venv/bin/python bench/build_speed.py"


def repvgg_a0(path: Path) -> int:
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers, channels = [], 3
    for width, depth in zip(WIDTHS, DEPTHS):
        for i in range(depth):
            layers += [nn.Conv2d(channels, width, 3, stride=2 if i == 0 else 1, padding=1),
                       nn.ReLU()]
            channels = width
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(channels, 10)).eval()
    torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False)
    return sum(p.numel() for p in model.parameters())


def timed(command: list[str]) -> float:
    """Seconds, without ccache (CCACHE empty: the harness compiles everything afresh)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "CCACHE": ""})
    return time.perf_counter() - start


def main() -> None:
    from codegen.generate import c_initializer, c_values

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        params = repvgg_a0(tmp / "a0.onnx")
        np.save(tmp / "calib.npy", np.random.default_rng(0).random((8, 3, 32, 32), np.float32))
        mcuq = str(Path(sys.executable).parent / "mcuq")
        # 7 MB of int8 weights: more than GAP9's 2 MiB MRAM, so an external flash of 16 MiB
        (tmp / "memory.json").write_text(json.dumps(
            {"l1": 128 * 1024, "l2": 1536 * 1024, "nvm": 16 * 1024 * 1024}))
        export_s = timed([mcuq, "export", str(tmp / "a0.onnx"), "--calib", str(tmp / "calib.npy"),
                          "--memory", str(tmp / "memory.json"), "-o", str(tmp / "out")])
        weights = tmp / "out" / "c" / "model_weights.c"
        report = json.loads((tmp / "out" / "report.json").read_text())
        verify_s = timed([mcuq, "verify", str(tmp / "out"), "--target", "host"])
        flags = ["-O2", "-std=c99", "-c", f"-I{tmp / 'out' / 'c' / 'mcuq' / 'ports' / 'host'}"]
        string_s = timed(["gcc", *flags, "-o", str(tmp / "w.o"), str(weights)])
        # the largest array as a list of numbers, against the same array as a string literal
        largest = np.random.default_rng(1).integers(-128, 128, 2 * 1024 * 1024).astype(np.int8)
        for style, text in (("numbers", "{\n" + c_values(largest) + "\n}"),
                            ("string", c_initializer(largest))):
            (tmp / f"{style}.c").write_text("#include <stdint.h>\nconst int8_t w"
                                            f"[{largest.size}] =\n{text};\n")
        numbers_2mb = timed(["gcc", *flags, "-o", str(tmp / "n.o"), str(tmp / "numbers.c")])
        string_2mb = timed(["gcc", *flags, "-o", str(tmp / "s.o"), str(tmp / "string.c")])
    doc = {"command": COMMAND, "parameters": params, "weight_bytes": report["weight_bytes"],
           "export_s": export_s, "verify_host_s": verify_s,
           "weights_c_compile_s": string_s, "numbers_2mib_compile_s": numbers_2mb,
           "string_2mib_compile_s": string_2mb,
           "gcc": subprocess.run(["gcc", "--version"], capture_output=True,
                                 text=True).stdout.splitlines()[0]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "build_speed.json").write_text(json.dumps(doc, indent=1) + "\n")
    lines = ["# Export and host build of a RepVGG-A0-size model", "",
             f"Made by `{COMMAND}` ({doc['gcc']}, 2 cores): RepVGG-A0's deploy form, "
             f"{params:,} parameters, int8, {doc['weight_bytes']:,} bytes of weights.", "",
             "| step | seconds |", "|---|---|",
             f"| `mcuq export` (import, calibration, quantization, report, C) | {export_s:.1f} |",
             f"| `mcuq verify --target host` (gcc -O2 + UBSan build without ccache, one run, "
             "compare) | "
             f"{verify_s:.1f} |",
             f"| gcc -O2 of the weights file alone | {string_s:.1f} |",
             f"| gcc -O2 of a 2 MiB int8 array written as numbers | {numbers_2mb:.1f} |",
             f"| gcc -O2 of the same array as a string literal | {string_2mb:.1f} |"]
    (RESULTS / "build_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

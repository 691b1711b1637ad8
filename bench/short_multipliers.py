"""What the depthwise layers' short multipliers (mcuq.fixedpoint.short_multipliers: about
13 bits instead of 31, so that the xcv kernels requantize with a 1-cycle `mul`) change,
on the networks of bench/mcu_models.py that have depthwise layers (MobileOne-S0 and
MobileNetV2 at half width, trained here for 10 epochs, 32x32).

For each network, two int8 exports from the same calibration: the depthwise multipliers
as the export gives them (short where it proves them exact) and as they were before
(31 bits). Per depthwise layer, on the same input bytes (the long export's own input to
that layer), the share of output bytes that the short multipliers change; on the whole
network, the logit SQNR against ONNX Runtime's float logits and the top-1 agreement of
each export, and how often the two exports' top-1 choices differ.

    .venv/bin/python bench/short_multipliers.py      # about 3 minutes

Writes bench/results/short_multipliers.{json,md}.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
COMMAND = ".venv/bin/python bench/short_multipliers.py"
NETWORKS = ("MobileOne-S0 x0.5", "MobileNetV2 x0.5")
EPOCHS, TEST = 10, 500


def export_long(path: Path, calib: Path, out: Path) -> None:
    """The export with every depthwise multiplier kept at 31 bits (the step that shortens
    them switched off for this one export)."""
    from mcuq.export import export
    from mcuq.ops import depthwise_conv2d

    shorten = depthwise_conv2d.shorten_multipliers
    depthwise_conv2d.shorten_multipliers = lambda qlayer: qlayer
    try:
        export(path, calib, out, precision="int8", cores=8)
    finally:
        depthwise_conv2d.shorten_multipliers = shorten


def measure(name: str, train: tuple, test: tuple, scratch: Path) -> dict:
    import mcu_models

    from mcuq.export import export
    from mcuq.ops import depthwise_conv2d
    from mcuq.qgraph import QGraph
    from mcuq.simulate import Simulator

    images, labels = test
    path = mcu_models.build(mcu_models.networks()[name], train, EPOCHS, scratch / "model.onnx")
    reference = mcu_models.ort_logits(path, images)
    np.save(scratch / "calib.npy", train[0][:128])
    export(path, scratch / "calib.npy", scratch / "short", precision="int8", cores=8)
    export_long(path, scratch / "calib.npy", scratch / "long")
    logits, layers = {}, []
    for form in ("short", "long"):
        q = QGraph.load(scratch / form)
        trace: dict = {}
        sim = Simulator(q)
        logits[form] = sim.run(images[:, None], trace=trace)[:, 0]
        if form == "long":
            values = {layer.outputs[0]: trace[layer.name][:, 0] for layer in q.layers}
            values[q.input] = sim.quantize_input(images[:, None])[:, 0]
            for layer in q.layers:
                if layer.kind != "depthwise_conv2d":
                    continue
                short = depthwise_conv2d.shorten_multipliers(layer)
                x = values[layer.inputs[0]]
                a = depthwise_conv2d.run_device(layer, [x], None)
                b = depthwise_conv2d.run_device(short, [x], None)
                layers.append({"layer": layer.name, "bytes": int(a.size),
                               "changed": int(np.sum(a != b)),
                               "channels": int(len(layer.arrays["shift"])),
                               "short_channels": int(np.sum(short.arrays["shift"] <= 31))})
    row = {"network": name, "float_top1": float(np.mean(reference.argmax(1) == labels)),
           "layers": layers,
           "top1_choices_differing": float(np.mean(logits["short"].argmax(1)
                                                   != logits["long"].argmax(1)))}
    for form, y in logits.items():
        row[form] = {"logit_sqnr_db": round(mcu_models.sqnr_db(reference, y), 2),
                     "top1": float(np.mean(y.argmax(1) == labels)),
                     "top1_agreement": float(np.mean(y.argmax(1) == reference.argmax(1)))}
    return row


def markdown(rows: list) -> str:
    lines = ["# Short depthwise multipliers: what they change", "",
             f"Made by `{COMMAND}`: MobileOne-S0 and MobileNetV2 at half width, trained "
             f"{EPOCHS} epochs at 32x32 (bench/mcu_models.py), {TEST} test images; int8 "
             "exports with the depthwise multipliers short (as mcuq exports them) and long "
             "(31 bits, as before).", "",
             "| network | depthwise channels short | depthwise output bytes changed (same "
             "inputs) | logit SQNR short / long (dB) | top-1 agreement short / long | top-1 "
             "choices differing |", "|---|---|---|---|---|---|"]
    for r in rows:
        changed = sum(x["changed"] for x in r["layers"])
        total = sum(x["bytes"] for x in r["layers"])
        short = sum(x["short_channels"] for x in r["layers"])
        channels = sum(x["channels"] for x in r["layers"])
        lines.append(f"| {r['network']} | {short:,} of {channels:,} | {changed:,} of {total:,} "
                     f"({100 * changed / total:.3f}%) | {r['short']['logit_sqnr_db']} / "
                     f"{r['long']['logit_sqnr_db']} | {100 * r['short']['top1_agreement']:.1f}% / "
                     f"{100 * r['long']['top1_agreement']:.1f}% | "
                     f"{100 * r['top1_choices_differing']:.1f}% |")
    lines += ["", "A changed byte is one output step: the short multiplier moved a value "
              "across a rounding boundary. The whole network's logits then differ more "
              "(each change travels through the later layers, which these few-epoch networks "
              "amplify: see bench/results/mcu_models.md), but no more against the float "
              "model than the long multipliers' do."]
    return "\n".join(lines) + "\n"


def main() -> None:
    from mcuq.vision import datasets

    train = datasets.shapes("train", 2000)
    test = datasets.shapes("test", TEST)
    rows = []
    for name in NETWORKS:
        with tempfile.TemporaryDirectory() as d:
            rows.append(measure(name, train, test, Path(d)))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "layers"}), flush=True)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "short_multipliers.json").write_text(
        json.dumps({"command": COMMAND, "epochs": EPOCHS, "images": TEST, "rows": rows},
                   indent=1) + "\n")
    (results / "short_multipliers.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()

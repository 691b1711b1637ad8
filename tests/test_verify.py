"""End to end: export -> C -> host and RV32 QEMU, every output byte == the simulator."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import make_stack, random_sequences, save_model
from mcuq.export import export
from mcuq.qgraph import QGraph, c_manifest, document_sha256
from mcuq.simulate import Simulator
from mcuq.verify import verify

FRAMES = 101
# odd sizes, mixed stacks, each saved by a different exporter
MODELS = {
    "gru1": dict(features=21, fc=15, rnns=[("gru", 13)], out=21, exporter="onnx_legacy"),
    "lstm2": dict(features=33, fc=19, rnns=[("lstm", 7), ("lstm", 19)], out=17,
                  exporter="torchscript"),
    "gru_lstm": dict(features=17, fc=11, rnns=[("gru", 9), ("lstm", 23)], out=5,
                     exporter="torch_export", head="tanh"),
    "lstm_gru_gru": dict(features=27, fc=29, rnns=[("lstm", 5), ("gru", 31), ("gru", 3)],
                         out=27, exporter="onnx_dynamo", head="none"),
    # the paper's FP16-INT8 recipe: recurrent layers int8, everything else fp16
    "lstm2_mixed": dict(features=33, fc=19, rnns=[("lstm", 7), ("lstm", 19)], out=17,
                        exporter="torchscript", precision="mixed"),
    "gru_lstm_mixed": dict(features=17, fc=11, rnns=[("gru", 9), ("lstm", 23)], out=5,
                           exporter="onnx_legacy", head="tanh", precision="mixed"),
    # every layer fp16
    "lstm_gru_gru_fp16": dict(features=27, fc=29, rnns=[("lstm", 5), ("gru", 31), ("gru", 3)],
                              out=27, exporter="onnx_legacy", head="sigmoid", precision="fp16"),
    # a per-layer assignment: int8 input layer, fp16 output layer and head
    "gru1_override": dict(features=21, fc=15, rnns=[("gru", 13)], out=21, exporter="onnx_legacy",
                          precision="int8", overrides={"linear1": "fp16", "sigmoid": "fp16"}),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def exported(request, tmp_path_factory):
    spec = dict(MODELS[request.param])
    exporter = spec.pop("exporter")
    precision = spec.pop("precision", "int8")
    overrides = spec.pop("overrides", None)
    features = spec["features"]
    tmp = tmp_path_factory.mktemp(request.param)
    model = make_stack(len(request.param), **spec)
    path = save_model(model, torch.zeros(1, FRAMES, features), exporter, tmp / "model")
    calib = random_sequences(6, FRAMES, features, seed=7)
    np.save(tmp / "calib.npy", calib)
    out = tmp / "out"
    # cores=3: the default of the generated code; verify rebuilds for other counts
    export(path, tmp / "calib.npy", out, cores=3, precision=precision, overrides=overrides)
    return out, calib, request.param


@pytest.mark.parametrize("cores", [1, 2, 4, 8])
@pytest.mark.parametrize("target", ["host", "qemu"])
def test_verify_bit_exact(exported, target, cores):
    """Every op, every core count: the same bytes as the simulator (which has no cores)."""
    out, calib, _ = exported
    summary = verify(out, target, calib[0], cores=cores)
    qgraph = QGraph.load(out)
    assert summary["cores"] == cores
    assert summary["frames"] == FRAMES
    assert summary["compared_bytes"] == FRAMES * qgraph.tensor_bytes(qgraph.output)
    assert summary["mismatched_bytes"] == 0 and summary["bit_exact"] is True
    if target == "qemu":
        assert summary["instructions_per_frame"]["min"] > 0


def test_simulator_matches_float_model_closely_enough_to_be_the_same_network(exported):
    """Not a bit-exact check: int8 vs float is measured, and must be clearly correlated."""
    out, calib, _ = exported
    report = json.loads((out / "report.json").read_text())
    assert all(row["sqnr_db"] > 10 for row in report["layers"]), report["layers"]


def test_verify_names_first_differing_layer(tmp_path, exported):
    exported_dir, calib, _ = exported
    out = tmp_path / "out"
    shutil.copytree(exported_dir, out)
    qgraph = QGraph.load(out)
    victim = next(layer for layer in qgraph.layers if layer.kind in ("gru", "lstm"))
    # corrupt one weight of that layer in the generated C: the device now computes
    # something else from that layer on (the C's recorded SHA-256s updated to match, or
    # verify would refuse to build it)
    weights = out / "c" / "model_weights.c"
    original = weights.read_text()
    symbol = f"model_{victim.name}_w_ih["
    start = original.index("{", original.index(symbol)) + 1
    first_end = original.index(",", start)
    value = original[start:first_end].strip()
    new_value = "99" if value == "100" else "100"  # an integer literal suits int8 and fp16
    weights.write_text(original[:start] + " " + new_value + original[first_end:])
    doc = json.loads((out / "model.json").read_text())
    doc["c_sha256"] = c_manifest(out / "c")
    doc["sha256"] = document_sha256(doc)
    (out / "model.json").write_text(json.dumps(doc))
    summary = verify(out, "host", calib[0])
    assert not summary["bit_exact"] and summary["mismatched_bytes"] > 0
    assert summary["first_difference"]["layer"] == victim.name


def test_cli_verify_json_and_simulate(tmp_path, exported):
    out, calib, _ = exported
    np.save(tmp_path / "x.npy", calib[1])
    mcuq = [sys.executable, "-m", "mcuq.cli"]
    run = subprocess.run(mcuq + ["verify", str(out), "--target", "host", "--input",
                                 str(tmp_path / "x.npy"), "--json"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert {"target", "cores", "frames", "compared_bytes", "mismatched_bytes",
            "bit_exact"} <= set(summary)
    assert summary["bit_exact"] is True and summary["frames"] == FRAMES
    assert summary["cores"] == 3  # the export's

    run = subprocess.run(mcuq + ["verify", str(out), "--target", "host", "--input",
                                 str(tmp_path / "x.npy"), "--frames", "2", "--json"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    short = json.loads(run.stdout)
    assert short["frames"] == 2 < FRAMES and short["bit_exact"] is True
    assert short["compared_bytes"] * FRAMES == summary["compared_bytes"] * 2

    run = subprocess.run(mcuq + ["simulate", str(out), "--input", str(tmp_path / "x.npy"),
                                 "-o", str(tmp_path / "y.npy"), "--raw"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    sim = Simulator(QGraph.load(out))
    want = sim.run_device(sim.quantize_input(calib[1][None]))[0]
    assert np.array_equal(np.load(tmp_path / "y.npy"), want)


def test_streaming_state_persists_between_calls(exported):
    """Frame-by-frame runs equal one run over the whole sequence; reset restarts it."""
    out, calib, _ = exported
    sim = Simulator(QGraph.load(out))
    x_q = sim.quantize_input(calib[:1])
    whole = sim.run_device(x_q)[0]
    sim.reset(1)
    frames = np.stack([sim.step(x_q[:, t])[0] for t in range(FRAMES)])
    assert np.array_equal(frames, whole)


def test_precisions_are_as_asked(exported):
    out, _, name = exported
    qgraph = QGraph.load(out)
    spec = MODELS[name]
    for layer in qgraph.layers:
        if layer.kind == "convert":
            continue
        want = {"int8": "int8", "fp16": "fp16",
                "mixed": "int8" if layer.kind in ("gru", "lstm") else "fp16"}[
            spec.get("precision", "int8")]
        want = spec.get("overrides", {}).get(layer.name,
                                             spec.get("overrides", {}).get(layer.kind, want))
        assert layer.params["precision"] == want, layer.name
    # a convert layer wherever the precision changes, and nowhere else
    for layer in qgraph.layers:
        for tensor in layer.inputs:
            expected = "float16" if layer.params["precision"] == "fp16" else "int8"
            if layer.kind == "convert":
                expected = "int8" if layer.params["precision"] == "fp16" else "float16"
            assert qgraph.tensors[tensor].dtype == expected, layer.name


def test_mlp_without_recurrent_layers(tmp_path):
    """A frame-wise model: (items, features) data, each item one frame."""
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Linear(11, 9), torch.nn.ReLU(), torch.nn.Linear(9, 7),
                                torch.nn.Tanh(), torch.nn.Linear(7, 5), torch.nn.Sigmoid()).eval()
    path = save_model(model, torch.zeros(1, 11), "onnx_legacy", tmp_path / "mlp",
                      dynamic_time=False)
    data = random_sequences(1, 120, 11, seed=2)[0]  # 120 items of 11 features
    np.save(tmp_path / "calib.npy", data)
    export(path, tmp_path / "calib.npy", tmp_path / "out")
    for target in ("host", "qemu"):
        summary = verify(tmp_path / "out", target, data)
        assert summary["bit_exact"] and summary["frames"] == 120
    # every layer in fp16 (no int8 anywhere): fp16 in, fp16 out
    export(path, tmp_path / "calib.npy", tmp_path / "out16", precision="fp16", cores=2)
    qgraph = QGraph.load(tmp_path / "out16")
    assert {t.dtype for t in qgraph.tensors.values()} == {"float16"}
    for target in ("host", "qemu"):
        summary = verify(tmp_path / "out16", target, data)
        assert summary["bit_exact"] and summary["compared_bytes"] == 120 * 5 * 2
    run = subprocess.run([sys.executable, "-m", "mcuq.cli", "simulate", str(tmp_path / "out"),
                          "--input", str(tmp_path / "calib.npy"), "-o", str(tmp_path / "y.npy")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert np.load(tmp_path / "y.npy").shape == (120, 5)


def test_harness_frames_start_aligned_and_the_header_gives_sizes(tmp_path):
    """A streaming model's verification frames of an odd byte count each start at a
    multiple of 8 bytes (as a firmware's buffers would; frames back to back would make
    most word loads misaligned), a sequence model's lie back to back as run_sequence
    reads them; the generated header gives the frame sizes in bytes and the buffer
    alignment; and an odd-sized streaming model still verifies."""
    import re

    from codegen.generate import render_verify_data

    frames = np.arange(3 * 5, dtype=np.int8).reshape(3, 5)
    for sequence, stride in ((False, 8), (True, 5)):
        path = tmp_path / f"v{sequence}.c"
        render_verify_data("m", "test", frames, 4, path, sequence=sequence)
        text = path.read_text()
        assert f"mcuq_verify_input_stride = {stride};" in text
        literal = text.split("mcuq_verify_input[")[1].split("=", 1)[1].split(";")[0]
        values = [int(v, 8) for v in re.findall(r"\\([0-7]{3})", literal)]  # octal escapes
        assert len(values) == 3 * stride
        assert values[stride:stride + 5] == list(frames[1].view(np.uint8))
    torch.manual_seed(0)
    path = save_model(torch.nn.Linear(13, 7).eval(), torch.zeros(1, 13), "onnx_legacy",
                      tmp_path / "fc", dynamic_time=False)
    data = np.random.default_rng(0).standard_normal((5, 13)).astype(np.float32)
    np.save(tmp_path / "x.npy", data)
    export(path, tmp_path / "x.npy", tmp_path / "out")
    header = (tmp_path / "out" / "c" / "model.h").read_text()
    for macro, value in (("INPUT_BYTES", 13), ("OUTPUT_BYTES", 7), ("BUFFER_ALIGNMENT", 4)):
        assert f"#define MODEL_{macro} {value}\n" in header
    for target in ("host", "qemu"):
        assert verify(tmp_path / "out", target, data, cores=2)["bit_exact"]


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_float_helpers_of_the_header_equal_the_simulators_conversions(tmp_path, precision):
    """<name>_quantize_input and <name>_dequantize_output (static inline in the generated
    header), compiled with gcc, give the simulator's codes and floats byte for byte: on
    random values, values on and next to rounding ties, values beyond the range."""
    from mcuq.simulate import decode, encode

    torch.manual_seed(1)
    path = save_model(torch.nn.Linear(9, 11).eval(), torch.zeros(1, 9), "onnx_legacy",
                      tmp_path / "fc", dynamic_time=False)
    rng = np.random.default_rng(2)
    np.save(tmp_path / "x.npy", (rng.standard_normal((6, 9)) * 2 + 0.3).astype(np.float32))
    export(path, tmp_path / "x.npy", tmp_path / "out", precision=precision)
    q = QGraph.load(tmp_path / "out")
    t_in, t_out = q.input_tensor, q.output_tensor
    scale = t_in.scale if precision == "int8" else 1e-3
    ties = (np.arange(-140, 140) + 0.5 - t_in.zero_point) * scale
    x = np.concatenate([rng.standard_normal(900) * 3, ties, np.nextafter(ties, 0),
                        np.nextafter(ties, 1e9), [1e9, -1e9, 0.0, -0.0]]).astype(np.float32)
    x = np.pad(x, (0, -len(x) % 9)).reshape(-1, 9)
    codes = (rng.integers(-128, 128, (40, 11)).astype(np.int8) if precision == "int8" else
             (rng.standard_normal((40, 11)) * 50).astype(np.float16))
    x.tofile(tmp_path / "x.bin")
    codes.tofile(tmp_path / "q.bin")
    (tmp_path / "main.c").write_text(f"""
#include <stdio.h>
#include "model.h"
int main(void) {{
    float x[MODEL_INPUT_SIZE], y[MODEL_OUTPUT_SIZE];
    model_input_t q[MODEL_INPUT_SIZE];
    model_output_t o[MODEL_OUTPUT_SIZE];
    FILE *fx = fopen("x.bin", "rb"), *fq = fopen("q.bin", "rb");
    FILE *gx = fopen("xq.bin", "wb"), *gy = fopen("y.bin", "wb");
    for (int i = 0; i < {len(x)}; i++) {{
        if (fread(x, sizeof x, 1, fx) != 1) return 1;
        model_quantize_input(x, q);
        fwrite(q, sizeof q, 1, gx);
    }}
    for (int i = 0; i < {len(codes)}; i++) {{
        if (fread(o, sizeof o, 1, fq) != 1) return 1;
        model_dequantize_output(o, y);
        fwrite(y, sizeof y, 1, gy);
    }}
    fclose(gx); fclose(gy);
    return 0;
}}
""")
    build = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                            "-I", str(tmp_path / "out" / "c"), "main.c", "-o", "helpers"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert subprocess.run(["./helpers"], cwd=tmp_path).returncode == 0
    got_q = np.fromfile(tmp_path / "xq.bin", t_in.dtype).reshape(x.shape)
    got_y = np.fromfile(tmp_path / "y.bin", np.float32).reshape(codes.shape)
    assert np.array_equal(got_q.view(np.uint8), encode(x, t_in).view(np.uint8))
    assert np.array_equal(got_y.view(np.uint32), decode(codes, t_out).view(np.uint32))

"""examples/firmware: a firmware project of its own (main.c streaming float frames through
the C API) builds an export with make (`include model.mk`) and with CMake (the generated
model.cmake through add_subdirectory), runs on RV32 under QEMU, and prints the
simulator's bytes: the output frames in C memory order, and the first output value
dequantized by model_dequantize_output, equal to the simulator's float."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).parent / "ops"))
from optest import onnx_rnn  # noqa: E402
from mcuq.export import export  # noqa: E402
from mcuq.qgraph import QGraph, from_c_order, to_c_order  # noqa: E402
from mcuq.simulate import Simulator  # noqa: E402
from mcuq.toolchain import qemu_command  # noqa: E402
from mcuq.vision.datasets import digits  # noqa: E402

FIRMWARE = Path(__file__).resolve().parent.parent / "examples" / "firmware"
FRAMES = 5


def test_signal(frames: int, size: int) -> np.ndarray:
    """main.c's test_signal(): a 32-bit LCG, values (seed >> 20) - 2048 over 1024."""
    seed = np.uint32(12345)
    out = np.empty(frames * size, np.float32)
    with np.errstate(over="ignore"):
        for i in range(out.size):
            seed = seed * np.uint32(1664525) + np.uint32(1013904223)
            out[i] = (int(seed >> np.uint32(20)) - 2048) / 1024.0
    return out.reshape(frames, size)


test_signal.__test__ = False  # a helper, not a test


def expected(out_dir: Path) -> list[str]:
    """What main.c prints, computed by the simulator."""
    qgraph = QGraph.load(out_dir)
    t_in, t_out = qgraph.input_tensor, qgraph.tensors[qgraph.output]
    x = from_c_order(test_signal(FRAMES, int(np.prod(t_in.shape))), t_in.shape)
    sim = Simulator(qgraph)
    y_q = sim.run_device(sim.quantize_input(x[None]))[0]
    y = sim.dequantize_output(y_q[None])[0]
    lines = []
    for k in range(FRAMES):
        raw = to_c_order(np.asarray(y_q[k:k + 1], t_out.dtype), t_out.shape).tobytes()
        first = to_c_order(y[k:k + 1], t_out.shape).reshape(-1)[0]
        lines += [f"frame {k} {raw.hex()}", f"y0 {k} {float(np.float32(first)):.9g}"]
    return lines + [f"done {FRAMES}"]


def run_qemu(elf: Path, cores: int) -> list[str]:
    result = subprocess.run(qemu_command(elf.name, harts=cores + 1), cwd=elf.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def build_make(c_dir: Path, build: Path) -> Path:
    subprocess.run(["make", "-s", "-C", str(FIRMWARE), f"MODEL_DIR={c_dir}", f"BUILD={build}",
                    f"FRAMES={FRAMES}", "-j2"], check=True, capture_output=True)
    return build / "firmware.elf"


def build_cmake(c_dir: Path, build: Path) -> Path:
    subprocess.run(["cmake", "-S", str(FIRMWARE), "-B", str(build), f"-DMODEL_DIR={c_dir}",
                    f"-DFRAMES={FRAMES}",
                    f"-DCMAKE_TOOLCHAIN_FILE={c_dir}/mcuq/ports/qemu/toolchain.cmake"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j2"], check=True, capture_output=True)
    return build / "firmware.elf"


def test_example_firmware_builds_with_make_and_cmake_and_prints_the_simulators_bytes(
        tmp_path, examples_dir):
    out = tmp_path / "gru"
    export(examples_dir / "models" / "gru_small.pt", examples_dir / "data" / "calib_small.npy",
           out, cores=3, precision="mixed")
    want = expected(out)
    assert run_qemu(build_make(out / "c", tmp_path / "make"), 3) == want
    assert run_qemu(build_cmake(out / "c", tmp_path / "cmake"), 3) == want


def test_example_firmware_runs_a_sequence_model(tmp_path):
    """A model that reads its input backwards takes the sequence API (run_sequence)."""
    onnx.save(onnx_rnn("LSTM", 6, 5, seed=4, direction="reverse"), tmp_path / "lstm.onnx")
    calib = np.random.default_rng(1).standard_normal((3, FRAMES + 2, 6)).astype(np.float32)
    np.save(tmp_path / "calib.npy", calib)
    out = tmp_path / "lstm"
    export(tmp_path / "lstm.onnx", tmp_path / "calib.npy", out, cores=2)
    assert QGraph.load(out).sequence
    assert run_qemu(build_make(out / "c", tmp_path / "make"), 2) == expected(out)


def test_example_firmware_runs_an_image_model(tmp_path, examples_dir):
    """A convolutional model: images in HWC order, int8 codes with a zero point."""
    images = digits("train")[0][:16]
    np.save(tmp_path / "calib.npy", images)
    out = tmp_path / "repvgg"
    export(examples_dir / "models" / "repvgg_digits.onnx", tmp_path / "calib.npy", out, cores=2)
    assert run_qemu(build_make(out / "c", tmp_path / "make"), 2) == expected(out)

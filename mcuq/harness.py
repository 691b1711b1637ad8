"""The generated C on a target: build the verification harness around an export, run it
on the host or on RV32 under QEMU, and read what it printed. Used by verify, bench and
enhance. Frames cross the boundary as bytes in C memory order (mcuq.qgraph.to_c_order)."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from codegen.generate import render_verify_data
from codegen.paths import firmware_dir
from mcuq import __version__, rtl
from mcuq.errors import McuqError
from mcuq.qgraph import QGraph, QTensor, check_c_folder, from_c_order, to_c_order
from mcuq.toolchain import qemu_command

TARGETS = ("host", "qemu", "rtl")


def c_bytes(values: np.ndarray, tensor: QTensor) -> bytes:
    """Device-format values (..., *shape) as the C code holds them in memory."""
    return to_c_order(np.asarray(values, tensor.dtype), tensor.shape).tobytes()


@contextlib.contextmanager
def built(out_dir: Path, qgraph: QGraph, target: str, frames_q: np.ndarray, trace: bool,
          cores: int, bench: bool = False, sanitize: bool = False):
    """Build the harness in a folder of its own (so runs of one export never share one) and
    yield the program; the folder goes when the caller is done, and stays with its
    build.log when the build fails. Modes: verification (plain), per-layer dump (trace),
    counted (bench); `sanitize` adds AddressSanitizer to the host build (UBSan is always
    on there). frames_q: device-format input frames (time, *input shape).

    No user path reaches make or QEMU: the run folder links the export's C as `model/`
    and the firmware as `firmware/`, and every command runs inside it with those fixed
    relative names, so paths with spaces, `$` or commas are never expanded or split."""
    mode = "-trace" if trace else ("-bench" if bench else "")
    check_c_folder(Path(out_dir) / "c", qgraph.c_files or {})
    root = Path(out_dir) / "build"
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise McuqError(f"{root} is a symlink or not a folder; mcuq builds only inside the "
                        "export: remove it")
    root.mkdir(exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f"{target}-{cores}core{mode}-", dir=root))
    (build_dir / "model").symlink_to((Path(out_dir) / "c").resolve(), target_is_directory=True)
    (build_dir / "firmware").symlink_to(firmware_dir(), target_is_directory=True)
    (build_dir / "out").mkdir()
    frames = to_c_order(np.asarray(frames_q, qgraph.input_tensor.dtype), qgraph.input_tensor.shape)
    render_verify_data(qgraph.name, __version__, frames.reshape(frames.shape[0], -1),
                       qgraph.tensor_bytes(qgraph.output), build_dir / "verify_data.c",
                       sequence=qgraph.sequence)
    cmd = ["make", "--no-print-directory", "-s", "-f", "firmware/harness/Makefile",
           f"TARGET={target}", f"MODEL={qgraph.name}", f"MODEL_MK=model/{qgraph.name}.mk",
           "VERIFY_DATA=verify_data.c", "BUILD=out", f"TRACE={int(trace)}",
           f"BENCH={int(bench)}", f"CORES={cores}", f"SANITIZE={int(sanitize)}", "-j2",
           "out/verify.elf"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=build_dir)
    if result.returncode != 0:
        log = build_dir / "build.log"
        log.write_text(result.stdout + result.stderr)
        lines = (result.stderr + result.stdout).splitlines()
        first = next((line for line in lines if "error" in line.lower()
                      and not line.startswith(("collect2", "make"))),
                     lines[0] if lines else "see the log")
        raise McuqError(f"building for {target} failed: {first.strip()} (full log: {log})")
    yield build_dir / "out" / "verify.elf"
    shutil.rmtree(build_dir, ignore_errors=True)


def run(elf: Path, target: str, timeout_s: float, cores: int, extra: list[str] | None = None
        ) -> subprocess.CompletedProcess:
    """Run a built harness, inside its run folder (relative names only); `extra` are
    further QEMU arguments (the counting plugin)."""
    cwd = elf.parent.parent
    name = str(elf.relative_to(cwd))
    if target == "host":
        cmd = ["./" + name]
    elif target == "rtl":
        cmd = [str(rtl.simulator()), "+firmware=" + str(rtl.hex_image(elf).relative_to(cwd))]
    else:
        cmd = qemu_command(name, harts=cores + 1) + (extra or [])
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise McuqError(f"the {target} run did not finish within {timeout_s:.0f} s") from None
    # the testbench exits 0 whatever the program's status: it prints the status instead
    finished = "END" in result.stdout and (target != "rtl" or "EXIT SUCCESS" in result.stdout)
    if result.returncode != 0 or not finished:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise McuqError(f"the {target} run failed with status {result.returncode}: "
                        + " | ".join(tail))
    return result


HARNESS_OBJECTS = ("verify_main.o", "verify_data.o")  # the harness's, not the model's


def sections(elf: Path) -> dict:
    """Section sizes (text, data, bss bytes; riscv64-unknown-elf-size) of a QEMU build:
    the model's objects (generated code, kernels, runtime, board) apart from the harness's,
    and the whole program."""
    objects = sorted(p for p in (elf.parent / "obj").glob("*.o") if p.name not in HARNESS_OBJECTS)

    def total(paths) -> dict:
        result = subprocess.run(["riscv64-unknown-elf-size", "-B", "-d", *map(str, paths)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise McuqError(f"riscv64-unknown-elf-size failed: {result.stderr.strip()}")
        sums = {"text": 0, "data": 0, "bss": 0}
        for line in result.stdout.splitlines()[1:]:
            text, data, bss = (int(v) for v in line.split()[:3])
            sums["text"] += text
            sums["data"] += data
            sums["bss"] += bss
        return sums

    return {"model": total(objects), "program": total([elf]),
            "tool": "riscv64-unknown-elf-size -B"}


def parse(stdout: str):
    """Output frames (list of bytes), instructions per frame, and layer dumps."""
    outputs, instructions, layers = [], [], {}
    for line in stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "F":
            instructions.append(int(parts[2]))
            outputs.append(bytes.fromhex(parts[3] if len(parts) > 3 else ""))
        elif parts[0] == "L":
            layers[(int(parts[1]), int(parts[2]))] = bytes.fromhex(parts[3] if len(parts) > 3 else "")
    return outputs, instructions, layers


def outputs_of(outputs: list[bytes], tensor: QTensor) -> np.ndarray:
    """The printed output frames as device-format values (frames, *shape)."""
    raw = np.frombuffer(b"".join(outputs), dtype=np.dtype(tensor.dtype))
    return from_c_order(raw.reshape(len(outputs), -1), tensor.shape)

"""The engines that run a quantized model on the host: `numpy`, the bit-exact simulator
(mcuq.simulate, the specification), and `c`, the model's generated C compiled for the
build machine as a shared library and called through ctypes (firmware/engine/engine.c).

Both give the same bytes (tests/test_engine.py holds them equal for every op and
precision); the C engine is what makes evaluating a model on a whole test set, or under
many bit error patterns, take minutes instead of hours. `auto` picks the C engine when a
host compiler is installed and the model has C (an fp32-ref export has none).

The C engine builds the model's C for one core with every array in one memory (the host
has no L1 to stream weights into; the arithmetic is the same), compiled with the host's
own instruction set (-march=native: F16C makes fp16 rounding a single instruction), and
loads one copy of the library per worker thread, since a model's state and arena are
globals. ctypes releases the GIL during a call, so the threads run in parallel.
"""
from __future__ import annotations

import ctypes
import dataclasses
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from codegen.memory import MemoryTarget
from codegen.paths import firmware_dir
from mcuq.errors import McuqError
from mcuq.qgraph import QGraph, from_c_order, to_c_order
from mcuq.simulate import Simulator

ENGINES = ("auto", "numpy", "c")
# the host has one flat memory: nothing streams, nothing is refused for size
FLAT = MemoryTarget(l1=1 << 40, l2=1 << 40, nvm=1 << 40)
CFLAGS = ("-std=c99", "-O3", "-march=native", "-fPIC", "-shared", "-pthread",
          "-ffp-contract=off", "-w")


def compiler() -> str | None:
    return shutil.which(os.environ.get("MCUQ_HOST_CC", "gcc"))


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise McuqError(f"unknown engine '{engine}'; use one of {', '.join(ENGINES)}")
    return engine


def resolve(engine: str, qgraph: QGraph) -> str:
    """The engine that runs `qgraph`: `auto` is `c` when a host compiler is installed and
    the model has C, else `numpy`; `c` without a compiler or C is a user error."""
    check_engine(engine)
    if engine == "numpy":
        return engine
    if qgraph.reference:
        if engine == "c":
            raise McuqError("--engine c runs generated C, and an fp32-ref model has none (it "
                            "is the float reference); use --engine numpy")
        return "numpy"
    if compiler() is None:
        if engine == "c":
            raise McuqError("--engine c needs a host C compiler (gcc): install it with "
                            "`sudo apt-get install -y gcc`, or use --engine numpy")
        return "numpy"
    return "c"


class CModel:
    """A QGraph's generated C as host libraries: run_device(x_q) gives what the simulator's
    run_device gives, byte for byte. A sequence model (a reverse layer) is built for the
    longest sequence it has been given, and rebuilt when a longer one comes."""

    def __init__(self, qgraph: QGraph, threads: int | None = None):
        self.qgraph = qgraph
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.libraries: list[ctypes.CDLL] = []
        self.frames = 0  # the longest sequence the libraries take (sequence models)
        self.folder: Path | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.libraries = []
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __del__(self):
        self.close()

    def _build(self, frames: int) -> None:
        from mcuq import memory as memory_target
        from mcuq.lower import lower

        cc = compiler()
        if cc is None:
            raise McuqError("the C engine needs a host C compiler (gcc): install it with "
                            "`sudo apt-get install -y gcc`, or use --engine numpy")
        self.close()
        meta = self.qgraph.meta
        qgraph = dataclasses.replace(self.qgraph, meta={
            **meta, "cores": 1, **({"max_frames": frames} if self.qgraph.sequence else {})})
        isa = meta.get("isa", "rv32")
        self.folder = Path(tempfile.mkdtemp(prefix="mcuq-engine-"))
        c_dir = self.folder / "c"
        memory_target.generate(lower(qgraph, isa, meta.get("source", "the host engine")), c_dir,
                               FLAT)
        name = qgraph.name
        # the engine's source beside the model, and every path relative to the build
        # folder: the same kernel is then the same command and text in every build, which
        # ccache recognises
        shutil.copyfile(firmware_dir() / "engine" / "engine.c", self.folder / "engine.c")
        used = _kernel_sources(c_dir / f"{name}.mk", isa)
        sources = [Path("c") / f"{name}.c", Path("c") / f"{name}_weights.c",
                   Path("c/mcuq/mcuq_tables.c"), Path("c/mcuq/ports/host/runtime.c"),
                   Path("engine.c")] + [Path("c/mcuq/kernels") / isa / k for k in sorted(used)]
        library = self.folder / "engine.so"
        flags = [*CFLAGS, "-Ic", "-Ic/mcuq", f"-Ic/mcuq/kernels/{isa}", "-Ic/mcuq/ports/host",
                 f"-DMCUQ_MODEL={name}", f"-DMCUQ_MACRO={name.upper()}",
                 f'-DMCUQ_MODEL_HEADER="{name}.h"', f"-DMCUQ_SEQUENCE={int(qgraph.sequence)}",
                 f"-D{name.upper()}_CORES=1"]
        # one object per source, compiled in parallel through ccache when it is installed:
        # the kernels are the same text in every build, and -O3 takes seconds on some
        cache = [shutil.which("ccache")] if shutil.which("ccache") else []
        objects = [f"{i}-{src.stem}.o" for i, src in enumerate(sources)]
        jobs = [subprocess.Popen([*cache, cc, *flags, "-c", "-o", obj, str(src)],
                                 cwd=self.folder, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
                for src, obj in zip(sources, objects)]
        logs = [(job.communicate()[0], job.returncode) for job in jobs]
        logs.append(_run([cc, *CFLAGS, "-o", library.name, *objects, "-lm"], self.folder))
        for log, status in logs:
            if status != 0:
                first = log.strip().splitlines()
                raise McuqError("building the C engine failed: "
                                + (first[0] if first else f"{cc} exited {status}")
                                + "; use --engine numpy")
        for i in range(self.threads):  # a copy per thread: the model's state is global
            copy = self.folder / f"engine{i}.so"
            shutil.copyfile(library, copy)
            lib = ctypes.CDLL(str(copy))
            lib.mcuq_engine_run.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p]
            lib.mcuq_engine_run.restype = ctypes.c_int32
            lib.mcuq_engine_init()
            self.libraries.append(lib)
        self.frames = frames

    def run_device(self, x_q: np.ndarray) -> np.ndarray:
        """Device-format (batch, time, *input shape) -> (batch, time, *output shape), each
        item from a cleared state."""
        q = self.qgraph
        tin, tout = q.input_tensor, q.output_tensor
        x_q = np.asarray(x_q, tin.dtype)
        batch, time = x_q.shape[:2]
        with self._lock:
            if not self.libraries or (q.sequence and time > self.frames):
                self._build(max(time, 1))
        x_c = to_c_order(x_q, tin.shape).reshape(batch, time, -1)
        y_c = np.empty((batch, time, tout.size), tout.dtype)

        def item(worker: int, b: int) -> None:
            lib = self.libraries[worker]
            status = lib.mcuq_engine_run(x_c[b].ctypes.data, time, y_c[b].ctypes.data)
            if status != 0:
                raise McuqError(f"the C engine refused a sequence of {time} frames")

        workers = min(self.threads, batch)
        if workers <= 1:
            for b in range(batch):
                item(0, b)
        else:
            with ThreadPoolExecutor(workers) as pool:
                # worker w takes items w, w + workers, ...: each library is used by one thread
                list(pool.map(lambda w: [item(w, b) for b in range(w, batch, workers)],
                              range(workers)))
        y = from_c_order(y_c.reshape(batch * time, -1), tout.shape)
        return y.reshape(batch, time, *tout.shape)


def _run(cmd: list[str], cwd: Path) -> tuple[str, int]:
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    return result.stdout, result.returncode


def _kernel_sources(mk: Path, isa: str) -> set[str]:
    """The kernel files the model's makefile lists (the export copies every kernel)."""
    marker = "/kernels/$(MCUQ_ISA)/"
    names = set()
    for line in mk.read_text().splitlines():
        if marker in line:
            names.add(line.split(marker, 1)[1].split()[0])
    return names


class CSimulator(Simulator):
    """The simulator's interface (run, run_device, quantize_input, saturation) with the
    frames computed by the C engine; a per-layer trace still comes from NumPy (the C
    engine returns the model output only)."""

    def __init__(self, qgraph: QGraph, float_graph=None, threads: int | None = None):
        super().__init__(qgraph, float_graph)
        self.c = CModel(qgraph, threads)

    def run_device(self, x_q: np.ndarray, trace: dict | None = None,
                   x_float: np.ndarray | None = None) -> np.ndarray:
        if trace is not None:
            return super().run_device(x_q, trace, x_float)
        y = self.c.run_device(x_q)
        if x_float is not None and self.float_model is not None:
            self.float_model.reset(x_q.shape[0])
            self.float_model.run(x_float, lambda layer, values, state: self._count(
                self.output_of.get(layer.name, ""), values))
        return y


def simulator(qgraph: QGraph, float_graph=None, engine: str = "auto",
              threads: int | None = None) -> Simulator:
    """A Simulator for `qgraph` on the chosen engine (see resolve)."""
    if resolve(engine, qgraph) == "c":
        return CSimulator(qgraph, float_graph, threads)
    return Simulator(qgraph, float_graph)


def option():
    """The --engine option of the commands that run a model on the host."""
    import click

    return click.option(
        "--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
        help="What computes the quantized model: numpy (the bit-exact simulator, the "
             "specification), c (its generated C compiled for this machine: the same bytes, "
             "much faster), or auto (c when gcc is installed and the model has C).")

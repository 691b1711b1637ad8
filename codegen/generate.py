"""QGraph -> C sources: <name>.h, <name>.c, <name>_weights.c, <name>.mk and the kernel
library (copied, so the output folder builds on its own)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import jinja2
import numpy as np

from codegen.arena import ArenaPlan, Buffer, plan_arena
from codegen.bindings import C_TYPES, CArray, LayerBinding, bind
from codegen.paths import firmware_dir, templates_dir
from mcuq import __version__
from mcuq import fixedpoint as fx
from mcuq.errors import McuqError
from mcuq.qgraph import QGraph

KERNEL_DIRS = ("kernels", "runtime")  # copied flat into <out>/c/mcuq/
PORTS = ("pulp", "host", "qemu")  # runtimes copied into <out>/c/mcuq/ports/


def _c_half(value) -> str:
    """An fp16 value as an exact C hexadecimal float literal, e.g. 0x1.8p-3."""
    text = float(value).hex()
    mantissa, exponent = text.split("p")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}"


def c_values(values, per_line: int = 16) -> str:
    """Comma-separated C initializer lines of an integer or fp16 array."""
    flat = np.asarray(values).reshape(-1)
    if flat.dtype == np.float16:
        items = [_c_half(v) for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("    " + line for line in lines)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             autoescape=False)
    env.filters["c_values"] = c_values
    return env


def check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise McuqError(f"model name '{name}' is not a C identifier (letters, digits, _)")
    return name


def layer_bindings(qgraph: QGraph) -> tuple[list[LayerBinding], ArenaPlan]:
    """Bind every layer and place its buffers in the arena."""
    prefix = qgraph.name
    bindings = [bind(prefix, layer) for layer in qgraph.layers]
    state = [(f"{b.name}.{s}", nbytes) for b in bindings for s, (_, nbytes) in b.state.items()]
    last_use = {}
    for index, layer in enumerate(qgraph.layers):
        for tensor in layer.inputs:
            last_use[tensor] = index
    activations = [Buffer(layer.outputs[0], qgraph.tensor_bytes(layer.outputs[0]), index,
                          last_use.get(layer.outputs[0], index))
                   for index, layer in enumerate(qgraph.layers)
                   if layer.outputs[0] != qgraph.output]
    arena = plan_arena(state, activations)

    def pointer(tensor: str) -> str:
        if tensor == qgraph.input:
            return f"{prefix}_input"
        if tensor == qgraph.output:
            return f"{prefix}_output"
        ctype = C_TYPES[qgraph.tensors[tensor].dtype]
        return f"({ctype} *)({prefix}_arena + {arena.offsets[tensor]})"

    for b, layer in zip(bindings, qgraph.layers):
        b.input = pointer(layer.inputs[0])
        b.output = pointer(layer.outputs[0])
        b.output_bytes = qgraph.tensor_bytes(layer.outputs[0])
        b.state_ptr = {s: f"({ctype} *)({prefix}_arena + {arena.offsets[f'{b.name}.{s}']})"
                       for s, (ctype, _) in b.state.items()}
    return bindings, arena


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def generate_c(qgraph: QGraph, out_dir: Path, source: str) -> dict:
    """Write the C sources of `qgraph` into out_dir; returns a summary (arena, files)."""
    name = check_name(qgraph.name)
    env = environment()
    bindings, arena = layer_bindings(qgraph)
    arrays: list[CArray] = [a for b in bindings for a in b.arrays.values()]
    macro = name.upper()
    common = {"name": name, "macro": macro, "version": __version__, "source": source}

    ops = {b.template: env.get_template(f"ops/{b.template}.c.j2").module for b in bindings}
    params = [str(ops[b.template].params(b)) for b in bindings]
    calls = [str(ops[b.template].call(b)).strip() for b in bindings]

    out_dir.mkdir(parents=True, exist_ok=True)

    def tensor(t):
        return {"size": t.size, "ctype": C_TYPES[t.dtype], "int8": t.dtype == "int8",
                "scale_c": f"{t.scale:.9g}f", "zero_point": t.zero_point}

    _write(out_dir / f"{name}.h", env.get_template("model.h.j2").render(
        guard=f"{macro}_H", input=tensor(qgraph.input_tensor), cores=qgraph.meta["cores"],
        output=tensor(qgraph.output_tensor), arena=arena,
        weight_bytes=qgraph.weight_bytes(), **common))
    _write(out_dir / f"{name}.c", env.get_template("model.c.j2").render(
        bindings=bindings, arrays=arrays, arena=arena, params=[p for p in params if p.strip()],
        calls=calls, **common))
    _write(out_dir / f"{name}_weights.c", env.get_template("weights.c.j2").render(
        arrays=arrays, **common))

    library = out_dir / "mcuq"
    library.mkdir(exist_ok=True)
    for folder in KERNEL_DIRS:
        for src in sorted((firmware_dir() / folder).iterdir()):
            if src.suffix in (".c", ".h"):
                shutil.copyfile(src, library / src.name)
    for port in PORTS:
        (library / "ports" / port).mkdir(parents=True, exist_ok=True)
        for src in ("mcuq_port.h", "runtime.c"):
            shutil.copyfile(firmware_dir() / "ports" / port / src, library / "ports" / port / src)
    write_tables(library / "mcuq_tables.c")
    kernel_sources = sorted(p.name for p in library.glob("*.c"))
    _write(out_dir / f"{name}.mk", env.get_template("model.mk.j2").render(
        kernel_sources=kernel_sources, **common))
    return {"arena_bytes": arena.bytes, "state_bytes": arena.state_bytes,
            "weight_bytes": qgraph.weight_bytes(), "layers": len(bindings)}


def write_tables(path: Path) -> None:
    """The sigmoid/tanh tables of mcuq.fixedpoint as C (one source for both sides)."""
    path.write_text(environment().get_template("tables.c.j2").render(
        sigmoid=fx.SIGMOID_Q15, tanh=fx.TANH_Q15, version=__version__))


def render_verify_data(qgraph: QGraph, frames_q: np.ndarray, path: Path) -> None:
    """The verification input (int8 frames) as C, for the test harness."""
    env = environment()
    data = np.ascontiguousarray(frames_q).view(np.uint8)
    path.write_text(env.get_template("verify_data.c.j2").render(
        name=qgraph.name, macro=qgraph.name.upper(), version=__version__,
        frames=int(frames_q.shape[0]), input=data, frame_bytes=data.size // frames_q.shape[0],
        output_bytes=qgraph.tensor_bytes(qgraph.output)))

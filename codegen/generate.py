"""Program -> C sources: <name>.h, <name>.c, <name>_weights.c, the build fragments
<name>.mk (make) and <name>.cmake with a CMakeLists.txt (CMake), and the kernel library
and runtime ports (copied, so the output folder builds on its own).

Every decision is already in the Program (codegen.program); here the memory is
planned (codegen.planner) and the templates format. A layer's template is
templates/ops/<template>.c.j2 with two macros per precision suffix:
params_<suffix>(b) (its const parameter struct, may be empty) and call_<suffix>(b)
(its kernel call), where b is the layer's Binding.
"""
from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from codegen.memory import LEVEL_NAMES, MemoryTarget, Placement, Stream, place
from codegen.paths import firmware_dir, templates_dir
from codegen.planner import ArenaPlan, buffer_key, lifetimes, plan_arena, pointers
from codegen.program import C_TYPES, CArray, CLayer, Program

COMMON_DIRS = ("kernels", "runtime")  # headers copied flat into <out>/c/mcuq/
PORTS = ("pulp", "host", "qemu", "rtl")  # copied whole into <out>/c/mcuq/ports/
TABLES_SOURCE = "mcuq_tables.c"
FRAME_ALIGNMENT = 8  # bytes: the harness's streaming frames start at multiples of this


@dataclass
class Binding:
    """What an op template formats: names, C expressions and numbers, nothing to decide."""
    layer: CLayer
    inputs: list[str]  # C expressions of the input tensors
    output: str
    output_bytes: int
    state: dict[str, str] = field(default_factory=dict)  # buffer name -> C expression
    scratch: dict[str, str] = field(default_factory=dict)
    # a sequence program: the output's first frame, and the frame index of loop step k
    output_first: str = ""
    frame: str = "k"
    stream: Stream | None = None  # its weights stream through L1 (codegen.memory)
    stream_buffer: str = ""  # the C expression of the L1 buffer of two tiles

    def __getattr__(self, name):  # name, kernel, arrays, params, values of the layer
        return getattr(self.layer, name)

    @property
    def input(self) -> str:
        return self.inputs[0]

    def pointer(self, key: str) -> str:
        """The C symbol of an optional array of the layer, or a null pointer without it."""
        return self.layer.arrays[key].symbol if key in self.layer.arrays else "0"


def _c_hex_float(value) -> str:
    """A float value (fp16 or f32) as an exact C hexadecimal literal, e.g. 0x1.8p-3."""
    text = float(value).hex()
    mantissa, exponent = text.split("p")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}"


def c_values(values, per_line: int = 16) -> str:
    """Comma-separated C initializer lines of an integer, fp16 or f32 array (floats as exact
    hexadecimal literals)."""
    flat = np.asarray(values).reshape(-1)
    if flat.dtype == np.float16:
        items = [_c_hex_float(v) for v in flat]
    elif flat.dtype == np.float32:
        items = [_c_hex_float(v) + "f" for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("    " + line for line in lines)


# every byte as a 3-digit octal escape: never read together with the next character (a
# hex escape would be), and no trigraph can form (-std=c99 enables them)
OCTAL = np.array([f"\\{v:03o}" for v in range(256)])
BYTES_PER_LINE = 64


def c_initializer(values) -> str:
    """An array's initializer: for a byte array (int8, uint8) a string literal, which a C
    compiler reads in a fraction of the time of a list of numbers (an 8 MB array: 0.6 s
    against 12 s with gcc -O2), its length exactly the array's, so no terminating zero is
    stored; for any other type a braced list (c_values)."""
    flat = np.asarray(values).reshape(-1)
    if flat.dtype not in (np.int8, np.uint8):
        return "{\n" + c_values(flat) + "\n}"
    escaped = OCTAL[flat.view(np.uint8)]
    lines = ['    "' + "".join(escaped[i:i + BYTES_PER_LINE]) + '"'
             for i in range(0, escaped.size, BYTES_PER_LINE)]
    return "\n".join(lines) if lines else "{\n\n}"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             autoescape=False)
    env.filters["c_values"] = c_values
    env.filters["c_initializer"] = c_initializer
    return env


def streamed(layer: CLayer, stream: Stream, prefix: str) -> CLayer:
    """The layer with its streaming kernel and template macros, and its streamed arrays
    as one array of tiles (mcuq_stream.h) in their place."""
    arrays = {key: a for key, a in layer.arrays.items()
              if key not in {k for k, _ in stream.parts}}
    level = layer.arrays[stream.parts[0][0]].level
    arrays["tiles"] = CArray(f"{prefix}_{layer.name}_tiles", "uint8_t",
                             stream.tile_order({k: a.values for k, a in layer.arrays.items()}),
                             level)
    return dataclasses.replace(layer, kernel=layer.kernel + "_streamed",
                               suffix=layer.suffix + "_streamed", arrays=arrays)


def bind(program: Program, memory: MemoryTarget | None = None
         ) -> tuple[list[Binding], ArenaPlan, Placement]:
    """Plan the arena (the planner's three steps), place it and the weights at memory
    levels (codegen.memory; this sets each array's level), and bind every layer to its
    pointers."""
    state, buffers = lifetimes(program)
    plan = plan_arena(state, buffers)
    plan.naive_bytes = plan.state_bytes + sum(b.bytes for b in buffers)  # without reuse
    placement = place(program, plan.bytes, memory or MemoryTarget())
    for layer in program.layers:
        for array in layer.arrays.values():
            array.level = placement.layers[layer.name].weights
    exprs = pointers(program, plan)
    first = pointers(program, plan, frame="0")
    stream_buffer = f"{program.name}_stream_buffer"

    def placed(layer: CLayer) -> CLayer:
        stream = placement.layers[layer.name].stream
        return streamed(layer, stream, program.name) if stream else layer

    bindings = [Binding(layer=placed(layer), inputs=[exprs[t] for t in layer.inputs],
                        output=exprs[layer.output],
                        output_bytes=program.tensors[layer.output].bytes,
                        state={s.name: exprs[buffer_key(layer.name, s.name)] for s in layer.state},
                        scratch={s.name: exprs[buffer_key(layer.name, s.name)]
                                 for s in layer.scratch},
                        output_first=first[layer.output],
                        frame="frames - 1 - k" if layer.reverse else "k",
                        stream=placement.layers[layer.name].stream, stream_buffer=stream_buffer)
                for layer in program.layers]
    return bindings, plan, placement


def generate_c(program: Program, out_dir: Path, memory: MemoryTarget | None = None) -> dict:
    """Write the C sources of `program` into out_dir for the memory levels of `memory`
    (default: GAP9's); returns a summary (arena, weights, placement). Raises
    codegen.memory.DoesNotFit when the program does not fit."""
    name = program.name
    env = environment()
    bindings, arena, placement = bind(program, memory)
    arrays: list[CArray] = [a for b in bindings for a in b.arrays.values()]
    weight_bytes = int(sum(a.values.nbytes for a in arrays))  # tiles and padding included
    macro = name.upper()
    common = {"name": name, "macro": macro, "version": program.version, "source": program.source}

    templates = {b.template: env.get_template(f"ops/{b.template}.c.j2").module for b in bindings}
    params = [str(getattr(templates[b.template], f"params_{b.suffix}")(b)) for b in bindings]
    calls = [str(getattr(templates[b.template], f"call_{b.suffix}")(b)).strip() for b in bindings]

    out_dir.mkdir(parents=True, exist_ok=True)

    def tensor(t):
        return {"size": t.size, "bytes": t.bytes, "ctype": t.ctype, "int8": t.dtype == "int8",
                "shape": t.shape, "scale_d": repr(float(t.scale)),
                "layout": t.layout, "scale_c": f"{t.scale:.9g}f", "zero_point": t.zero_point}

    isa = {"name": program.isa, "macro": f"MCUQ_ISA_{program.isa.upper()}"}
    (out_dir / f"{name}.h").write_text(env.get_template("model.h.j2").render(
        guard=f"{macro}_H", input=tensor(program.tensors[program.input]), cores=program.cores,
        output=tensor(program.tensors[program.output]), arena=arena,
        weight_bytes=weight_bytes, frames=program.frames,
        output_final=program.output_final, **common))
    levels = {key: f"MCUQ_{title}" for key, title in LEVEL_NAMES.items()}
    (out_dir / f"{name}.c").write_text(env.get_template("model.c.j2").render(
        bindings=bindings, arrays=arrays, arena=arena, params=[p for p in params if p.strip()],
        arena_level=levels[placement.arena], stream_bytes=placement.stream_bytes,
        calls=calls, isa=isa, headers=sorted({b.header for b in bindings}),
        frames=program.frames, **common))
    (out_dir / f"{name}_weights.c").write_text(env.get_template("weights.c.j2").render(
        arrays=arrays, levels=levels, **common))

    library = out_dir / "mcuq"
    library.mkdir(exist_ok=True)
    for folder in COMMON_DIRS:
        for src in sorted((firmware_dir() / folder).iterdir()):
            if src.suffix == ".h":
                shutil.copyfile(src, library / src.name)
    for folder in program.isa_folders or (program.isa,):
        shutil.copytree(firmware_dir() / "kernels" / folder, library / "kernels" / program.isa,
                        dirs_exist_ok=True)
    for port in PORTS:  # the runtime, and a board's start-up and build files
        shutil.copytree(firmware_dir() / "ports" / port, library / "ports" / port,
                        dirs_exist_ok=True)
    write_tables(library / TABLES_SOURCE, program.tables, program.version)
    kernel_sources = sorted({b.kernel_file for b in bindings})
    (out_dir / f"{name}.mk").write_text(env.get_template("model.mk.j2").render(
        kernel_sources=kernel_sources, tables_source=TABLES_SOURCE, isa=isa, **common))
    (out_dir / f"{name}.cmake").write_text(env.get_template("model.cmake.j2").render(
        kernel_sources=kernel_sources, tables_source=TABLES_SOURCE, isa=isa,
        dir=f"${{{macro}_DIR}}", **common))
    (out_dir / "CMakeLists.txt").write_text(env.get_template("CMakeLists.txt.j2").render(
        **common))
    return {"arena_bytes": arena.bytes, "state_bytes": arena.state_bytes,
            "arena_naive_bytes": arena.naive_bytes,
            "weight_bytes": weight_bytes, "layers": len(bindings),
            "api": "sequence" if program.frames else "frame", "memory": placement.summary()}


def write_tables(path: Path, tables: dict, version: str) -> None:
    """The shared constant tables (arrays by name) as C: mcuq_<name>[]."""
    rows = [(symbol, C_TYPES[str(values.dtype)], values) for symbol, values in tables.items()]
    path.write_text(environment().get_template("tables.c.j2").render(tables=rows,
                                                                      version=version))


def render_verify_data(name: str, version: str, frames: np.ndarray, output_bytes: int,
                       path: Path, sequence: bool = False) -> None:
    """The verification input (frames, bytes per frame in C memory order) as C, for the
    test harness; a sequence model gets all frames in one run_sequence call. A streaming
    model's frames each start at a multiple of FRAME_ALIGNMENT bytes, as a firmware
    feeds them from aligned buffers (frames of 257 bytes back to back would make three of
    four frames' word loads unaligned, which the RTL's cycle counts would charge to the
    kernels); a sequence model's frames are back to back, as run_sequence reads them."""
    data = np.ascontiguousarray(frames).view(np.uint8).reshape(frames.shape[0], -1)
    frame_bytes = int(data.shape[1])
    stride = frame_bytes if sequence else -(-frame_bytes // FRAME_ALIGNMENT) * FRAME_ALIGNMENT
    data = np.pad(data, ((0, 0), (0, stride - frame_bytes)))
    path.write_text(environment().get_template("verify_data.c.j2").render(
        name=name, macro=name.upper(), version=version, frames=int(data.shape[0]),
        input=data, frame_bytes=frame_bytes, stride=stride, output_bytes=output_bytes,
        sequence=sequence))

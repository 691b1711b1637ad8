"""QGraph -> codegen.Program: every C decision about each layer, read from its op's
declarations (mcuq.ops), for one instruction set."""
from __future__ import annotations

import re

import numpy as np

from codegen.program import C_TYPES, CArray, CBuffer, CLayer, CStream, CTensor, Program
from mcuq import __version__
from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.ops import op
from mcuq.ops.base import SUFFIX
from mcuq.layouts import ISAS, KERNEL_FOLDERS
from mcuq.qgraph import QGraph, QLayer

# shared by every kernel: the int8 and fp16 sigmoid/tanh (mcuq_fixedpoint.h), the fp16
# exponential (mcuq_fp16.h)
TABLES = {"sigmoid_q15": fx.SIGMOID_Q15, "tanh_q15": fx.TANH_Q15, "exp2_poly": fp16.EXP2_POLY}


C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum
    extern float for goto if inline int long register restrict return short signed sizeof
    static struct switch typedef union unsigned void volatile while""".split())


def check_name(name: str) -> str:
    """The C prefix of the generated API and its file names: a C identifier that is no
    keyword, not reserved by C (a leading underscore), not mcuq's own prefix, and not the
    name of a runtime, port, harness or kernel file it is built beside."""
    from codegen.paths import firmware_dir

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise McuqError(f"model name '{name}' is not a C identifier (letters, digits, _)")
    taken = {p.stem for p in firmware_dir().rglob("*") if p.is_file()} | {"verify_data", "main"}
    if name in C_KEYWORDS or name.startswith("_") or name.lower().startswith("mcuq"):
        why = "a C keyword" if name in C_KEYWORDS else (
            "reserved by C (a leading underscore)" if name.startswith("_") else
            "mcuq's own prefix (the runtime's and kernels' symbols start with mcuq)")
        raise McuqError(f"model name '{name}' is {why}; choose another --name")
    if name in taken:
        raise McuqError(f"model name '{name}' is the name of a file the generated C is built "
                        "beside (runtime, port, harness or kernel); choose another --name")
    return name


def check_isa(isa: str) -> str:
    if isa not in ISAS:
        raise McuqError(f"unknown instruction set '{isa}'; use one of {', '.join(ISAS)}")
    return isa


def lower_layer(prefix: str, layer: QLayer, isa: str) -> CLayer:
    spec = op(layer.kind)
    laid_out = spec.c_arrays(layer, isa)
    arrays = {key: CArray(f"{prefix}_{layer.name}_{key}", C_TYPES[str(a.dtype)],
                          np.ascontiguousarray(a).reshape(-1))
              for key, a in laid_out.items()}
    stream = spec.c_stream(layer, laid_out)
    if stream is not None:
        units, parts = stream
        stream = CStream(int(units), [(key, int(n) * laid_out[key].dtype.itemsize)
                                      for key, n in parts.items()])
    state = [CBuffer(name, C_TYPES[dtype], count * np.dtype(dtype).itemsize)
             for name, dtype, count in spec.c_state(layer)]
    scratch = [CBuffer(name, C_TYPES[dtype], count * np.dtype(dtype).itemsize)
               for name, dtype, count in spec.c_scratch(layer, isa)]
    return CLayer(name=layer.name, template=spec.TEMPLATE,
                  suffix=SUFFIX[layer.params["precision"]], kernel=spec.kernel(layer),
                  kernel_file=spec.kernel_file(layer), header=spec.HEADER, inputs=list(layer.inputs),
                  output=layer.outputs[0], arrays=arrays, params=dict(layer.params),
                  values=spec.c_values(layer), state=state, scratch=scratch,
                  reverse=bool(layer.params.get("reverse", 0)), stream=stream)


def lower(qgraph: QGraph, isa: str, source: str) -> Program:
    qgraph.require_c("code generation")
    check_name(qgraph.name)
    check_isa(isa)
    tensors = {name: CTensor(name, t.dtype, t.shape, t.c_layout, t.scale, t.zero_point)
               for name, t in qgraph.tensors.items()}
    return Program(name=qgraph.name, version=__version__, source=source, isa=isa,
                   isa_folders=KERNEL_FOLDERS[isa],
                   cores=int(qgraph.meta.get("cores", 1)), input=qgraph.input,
                   output=qgraph.output, tensors=tensors,
                   layers=[lower_layer(qgraph.name, layer, isa) for layer in qgraph.layers],
                   tables=TABLES, frames=max_frames(qgraph) if qgraph.sequence else 0,
                   output_final=bool(qgraph.meta.get("output_final", False)))


def max_frames(qgraph: QGraph) -> int:
    """The longest sequence a sequence program takes: its arena holds that many frames of
    every tensor (the export's calibration sequences, unless set)."""
    frames = qgraph.meta.get("max_frames")
    if not isinstance(frames, int) or frames < 1:
        raise McuqError("this model reads its sequences backwards (a reverse or bidirectional "
                        "layer) and needs its longest sequence: meta.max_frames is missing")
    return frames

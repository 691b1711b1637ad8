"""QGraph -> codegen.Program: every C decision about each layer, read from its op's
declarations (mcuq.ops), for one instruction set."""
from __future__ import annotations

import re

import numpy as np

from codegen.program import C_TYPES, CArray, CBuffer, CLayer, CTensor, Program
from mcuq import __version__
from mcuq import fixedpoint as fx
from mcuq.errors import McuqError
from mcuq.ops import op
from mcuq.ops.base import SUFFIX
from mcuq.layouts import ISAS, KERNEL_FOLDERS
from mcuq.qgraph import QGraph, QLayer

# shared by the int8 and fp16 sigmoid/tanh of every kernel (mcuq_fixedpoint.h)
TABLES = {"sigmoid_q15": fx.SIGMOID_Q15, "tanh_q15": fx.TANH_Q15}


def check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise McuqError(f"model name '{name}' is not a C identifier (letters, digits, _)")
    return name


def check_isa(isa: str) -> str:
    if isa not in ISAS:
        raise McuqError(f"unknown instruction set '{isa}'; use one of {', '.join(ISAS)}")
    return isa


def lower_layer(prefix: str, layer: QLayer, isa: str) -> CLayer:
    spec = op(layer.kind)
    arrays = {key: CArray(f"{prefix}_{layer.name}_{key}", C_TYPES[str(a.dtype)],
                          np.ascontiguousarray(a).reshape(-1))
              for key, a in spec.c_arrays(layer, isa).items()}
    state = [CBuffer(name, C_TYPES[dtype], count * np.dtype(dtype).itemsize)
             for name, dtype, count in spec.c_state(layer)]
    scratch = [CBuffer(name, C_TYPES[dtype], count * np.dtype(dtype).itemsize)
               for name, dtype, count in spec.c_scratch(layer, isa)]
    return CLayer(name=layer.name, template=spec.TEMPLATE,
                  suffix=SUFFIX[layer.params["precision"]], kernel=spec.kernel(layer),
                  kernel_file=spec.kernel_file(layer), header=spec.HEADER, inputs=list(layer.inputs),
                  output=layer.outputs[0], arrays=arrays, params=dict(layer.params),
                  values=spec.c_values(layer), state=state, scratch=scratch)


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
                   tables=TABLES)

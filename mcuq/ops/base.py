"""What an op module declares, and the defaults of what it may leave out.

Required of every op module:
  KIND                          its kind (= the module name)
  run_float(layer, xs, state)   the float reference: a list of (batch, *shape) float32
                                inputs -> (batch, *shape) float32 output
Required of an op that runs on the device (PRECISIONS not empty):
  quantize(layer, qins, stats, precision) -> (QLayer, QTensor)
                                float layer, its input QTensors, the calibration
                                statistics of its output, "int8" or "fp16"
  run_device(qlayer, xs, state) the bit-exact twin of its C kernel(s)
Optional (defaults below):
  ONNX_TYPES, import_onnx(ctx, node)  the ONNX op types it imports and the handler
  PRECISIONS         the device precisions it has kernels for; () = a graph-only kind
                     that a graph pass always removes (identity, batchnorm)
  STATEFUL           keeps state between frames (recurrent)
  CALIBRATED_STATE   state keys whose max |.| calibration records
  OUTPUT_BOUNDS      (lo, hi) its float output never leaves (tanh: (-1, 1)); calibration
                     headroom widens a range up to these bounds only
  OUTLIERS           its int8 weights can keep outliers aside (--weight-outliers:
                     mcuq.outliers, the matvec kernels' side list); default False
  WEIGHTS            the arrays that hold its learned values apart from biases (what bit
                     errors in weight memory hit: mcuq.robustness); default ("weight",)
  output_shape(layer, shapes)           per-frame output shape from the input shapes
  init_float_state / init_device_state  per-layer state of a batch
  macs(qlayer)                          multiply-accumulates per frame
  c_state(qlayer)      persistent C buffers, in kernel argument order: [(name, dtype, count)]
  c_scratch(qlayer, isa)  per-layer scratch C buffers: [(name, dtype, count)]
  c_arrays(qlayer, isa)   the constant arrays as the ISA's kernels read them (layout)
  c_values(qlayer)        further values its template formats (e.g. a float literal)
  c_stream(qlayer, arrays)  how its weights stream through L1 when they do not fit there
                          (codegen.memory): (units, {array key: elements per unit}) in the
                          kernel's part order, given its c_arrays before flattening; None
                          (the default): its weights are read where they live. A streaming
                          op has the kernel <kernel>_streamed and the template macros
                          params_<sfx>_streamed and call_<sfx>_streamed
  onnx_nodes(qlayer, builder, inputs)  its ONNX form between QDQ pairs (mcuq.qdq); an op
                          without it has no QDQ export
  TEMPLATE             templates/ops/<TEMPLATE>.c.j2 (macros params_<sfx>, call_<sfx>)
  HEADER               firmware/kernels/mcuq_<kind>.h: its struct and prototypes
  kernel(qlayer)       the C function: mcuq_<kind>_s8 or mcuq_<kind>_f16, in the
                       file firmware/kernels/<isa>/<kind>_s8.c or <kind>_f16.c
"""
from __future__ import annotations

from types import ModuleType

# the C suffix of each device precision: kernel names, kernel files, template macros
SUFFIX = {"int8": "s8", "fp16": "f16"}


def _no_state(layer, batch: int) -> dict:
    return {}


def _same_shape(layer, shapes):
    return shapes[0]


def _no_macs(qlayer) -> int:
    return 0


def _no_buffers(qlayer, *isa) -> list:
    return []


def _arrays_as_they_are(qlayer, isa: str) -> dict:
    return dict(qlayer.arrays)


def _no_values(qlayer) -> dict:
    return {}


def _no_stream(qlayer, arrays) -> None:
    return None


DEFAULTS = {
    "ONNX_TYPES": (),
    "PRECISIONS": ("int8", "fp16"),
    "STATEFUL": False,
    "CALIBRATED_STATE": (),
    "OUTPUT_BOUNDS": None,
    "WEIGHTS": ("weight",),
    "OUTLIERS": False,
    "output_shape": _same_shape,
    "init_float_state": _no_state,
    "init_device_state": _no_state,
    "macs": _no_macs,
    "c_state": _no_buffers,
    "c_scratch": _no_buffers,
    "c_arrays": _arrays_as_they_are,
    "c_values": _no_values,
    "c_stream": _no_stream,
}


class Op:
    """An op module seen through its declarations, with the defaults filled in."""

    def __init__(self, module: ModuleType):
        self.module = module
        self.KIND = module.KIND

    def __getattr__(self, name: str):
        if hasattr(self.module, name):
            return getattr(self.module, name)
        if name in DEFAULTS:
            return DEFAULTS[name]
        if name == "TEMPLATE":
            return self.KIND
        if name == "HEADER":
            return f"mcuq_{self.KIND}.h"
        raise AttributeError(f"op {self.KIND} declares no {name}")

    def kernel(self, qlayer) -> str:
        if hasattr(self.module, "kernel"):
            return self.module.kernel(qlayer)
        return f"mcuq_{self.KIND}_{SUFFIX[qlayer.params['precision']]}"

    def kernel_file(self, qlayer) -> str:
        """The source file of its kernel in firmware/kernels/<isa>/."""
        return f"{self.KIND}_{SUFFIX[qlayer.params['precision']]}.c"

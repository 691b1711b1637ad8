"""The op registry. Each op kind is one module `mcuq/ops/<kind>.py` that declares
everything about it (see `mcuq.ops.base` for the declarations and their defaults):
the ONNX op types it imports, its output shape, float run, quantization, device twin,
MAC count, state buffers, C weight layout, template and kernel. The frontend,
passes, calibration, quantizer, simulator, code generator and bench read these
declarations through `op(kind)` and `onnx_op(op_type)`; no other table names an op.

Adding an op (docs/adding-an-op.md): its module, its kernel file(s), its template,
its test, and one line in KINDS below.
"""
from __future__ import annotations

import importlib

from mcuq.ops.base import Op

KINDS = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "gru",
    "lstm",
    "rnn",
    "add",
    "mul",
    "concat",
    "conv2d",
    "conv2d_cfws",
    "depthwise_conv2d",
    "depthwise_conv2d_cfws",
    "maxpool",
    "avgpool",
    "pad",
    "global_avgpool",
    "flatten",
    "transpose",
    "pointwise",
    "softmax",
    "prelu",
    "convert",
    "batchnorm",
    "identity",
)

_OPS: dict[str, Op] = {}
_ONNX: dict[str, Op] = {}


def _load() -> None:
    for kind in KINDS:
        spec = Op(importlib.import_module(f"mcuq.ops.{kind}"))
        if spec.KIND != kind:
            raise RuntimeError(f"mcuq/ops/{kind}.py declares KIND = {spec.KIND!r}")
        _OPS[kind] = spec
        for op_type in spec.ONNX_TYPES:
            if op_type in _ONNX:
                raise RuntimeError(f"ONNX {op_type} is claimed by {_ONNX[op_type].KIND} and {kind}")
            _ONNX[op_type] = spec


def op(kind: str) -> Op:
    if not _OPS:
        _load()
    return _OPS[kind]


def onnx_op(op_type: str) -> Op | None:
    """The op that imports ONNX nodes of this type, or None."""
    if not _OPS:
        _load()
    return _ONNX.get(op_type)


def kinds() -> list[str]:
    if not _OPS:
        _load()
    return list(_OPS)


def onnx_types() -> list[str]:
    if not _OPS:
        _load()
    return sorted(_ONNX)

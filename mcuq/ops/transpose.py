"""Transpose: a frame's values in another order, its axes permuted and then read in a
new shape (ONNX Transpose of per-frame axes, as a TensorFlow model's NHWC input needs;
Reshape and Flatten that regroup a frame where no other layer does).

float, int8, fp16: y = reshape(transpose(x, perm), shape)   (int8 keeps the input's scale
        and zero point; the values are copied, never computed)
In C both frames are in their memory order (an image HWC, any other frame row-major), so
output element j is input element src[j]; src is always a strided walk of at most
MAX_DIMS nested loops, extent[k] and stride[k] from the outermost (`walk`, computed here
once), which the kernel follows with an odometer.
C kernels: mcuq_transpose_s8 / _f16 (firmware/kernels/<isa>/transpose_*.c): each core
copies a share of the output elements.
"""
from __future__ import annotations

import numpy as np

from mcuq import fp16
from mcuq.errors import McuqError
from mcuq.ir import Layer
from mcuq.qgraph import QLayer, QTensor, from_c_order, to_c_order

KIND = "transpose"
MAX_DIMS = 6  # the C struct's loops


def attrs_of(perm, shape) -> dict:
    """The layer's attrs (and params): perm and shape as text, as model.json keeps scalars."""
    return {"perm": ",".join(str(int(p)) for p in perm),
            "shape": ",".join(str(int(s)) for s in shape)}


def geometry(a: dict) -> tuple[list[int], tuple[int, ...]]:
    """(perm, shape) back from attrs_of()."""
    return [int(v) for v in a["perm"].split(",")], tuple(int(v) for v in a["shape"].split(","))


def output_shape(layer: Layer, shapes):
    return geometry(layer.attrs)[1]


def apply(x: np.ndarray, perm, shape) -> np.ndarray:
    """(batch, *in_shape) -> (batch, *shape)."""
    moved = np.transpose(x, (0, *[p + 1 for p in perm]))
    return np.ascontiguousarray(moved).reshape(x.shape[0], *shape)


def run_float(layer: Layer, xs, state) -> np.ndarray:
    return apply(xs[0], *geometry(layer.attrs))


def onnx_nodes(qlayer: QLayer, b, xs: list) -> str:
    """QDQ (mcuq.qdq): Transpose of the frame's axes, then Reshape to the new frame."""
    perm, shape = geometry(qlayer.params)
    y = b.node("Transpose", xs, perm=[0] + [q + 1 for q in perm])
    return b.node("Reshape", [y, b.const("shape", np.array([1, *shape], np.int64))])


def walk(in_shape, perm, shape) -> list[tuple[int, int]]:
    """(extent, stride) pairs, outermost first, such that the output's element j in C
    memory order is the input's element at sum_k i_k stride_k in C memory order, (i_k)
    the digits of j in the extents."""
    size = int(np.prod(in_shape))
    position = from_c_order(np.arange(size, dtype=np.int64)[None], tuple(in_shape))
    src = to_c_order(apply(position, perm, shape), tuple(shape)).reshape(-1)
    loops = []
    rest = src
    while rest.size > 1:
        step = int(rest[1] - rest[0])
        run = 1
        while run < rest.size and rest[run] - rest[run - 1] == step:
            run += 1
        # the longest run that tiles the rest with the same step in every row
        run = next((r for r in range(run, 1, -1) if rest.size % r == 0 and np.all(
            np.diff(rest.reshape(-1, r), axis=1) == step)), 0)
        if run == 0:
            raise McuqError(f"a transpose of {list(in_shape)} is no strided walk; this is a bug")
        loops.append((run, step))
        rest = rest.reshape(-1, run)[:, 0]
    loops.append((1, 0))
    if len(loops) > MAX_DIMS:
        raise McuqError(f"a transpose of a frame of shape {list(in_shape)} into {list(shape)} "
                        f"needs {len(loops)} nested loops; mcuq's kernel takes {MAX_DIMS}")
    return list(reversed(loops))


def quantize(layer: Layer, qins, stats: dict, precision: str) -> tuple[QLayer, QTensor]:
    qin = qins[0]
    base = dict(kind=KIND, name=layer.name, inputs=list(layer.inputs),
                outputs=list(layer.outputs), source=layer.source)
    perm, shape = geometry(layer.attrs)
    loops = walk(qin.shape, perm, shape)
    loops = [(1, 0)] * (MAX_DIMS - len(loops)) + loops
    params = {"precision": precision, "size": qin.size, **attrs_of(perm, shape)}
    arrays = {"extent": np.array([e for e, _ in loops], np.int32),
              "stride": np.array([s for _, s in loops], np.int32)}
    if precision == "fp16":
        return QLayer(arrays=arrays, params=params, **base), fp16.tensor(shape)
    return QLayer(arrays=arrays, params=params, **base), QTensor(
        shape=shape, scale=qin.scale, zero_point=qin.zero_point)


def run_device(qlayer: QLayer, xs, state) -> np.ndarray:
    return apply(xs[0], *geometry(qlayer.params))

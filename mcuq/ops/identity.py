"""Identity (ONNX Identity, Dropout at inference): y = x.

A graph-only kind: the pass `remove_identities` (mcuq.passes) always removes it, so
it has no quantization, twin or kernel.
"""
from __future__ import annotations

from mcuq.frontend.onnx_node import Unusable

KIND = "identity"
ONNX_TYPES = ("Identity", "Dropout")
PRECISIONS = ()


def import_onnx(ctx, node) -> list:
    mask = Unusable(f"is the dropout mask of node '{node.name}', which inference has no use for")
    return ctx.elementwise(node, KIND) + [mask]


def run_float(layer, xs, state):
    return xs[0]

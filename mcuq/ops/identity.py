"""Identity (ONNX Identity, Dropout at inference): y = x.

A graph-only kind: the pass `remove_identities` (mcuq.passes) always removes it, so
it has no quantization, twin or kernel.
"""
from __future__ import annotations

import numpy as np

from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import Unusable, attrs, label

KIND = "identity"
ONNX_TYPES = ("Identity", "Dropout")
PRECISIONS = ()


def import_onnx(ctx, node) -> list:
    if node.op_type == "Dropout":
        training = node.input[2] if len(node.input) > 2 and node.input[2] else None
        mode = ctx.const(training, node) if training else np.array(False)
        if bool(np.asarray(mode).reshape(-1)[0]) or attrs(node).get("is_test", 1) == 0:
            raise McuqError(f"node {label(node)} (Dropout) is in training mode, where it drops "
                            "values at random; export the model after model.eval()")
    mask = Unusable(f"is the dropout mask of node '{node.name}', which inference has no use for")
    return ctx.elementwise(node, KIND) + [mask]


def run_float(layer, xs, state):
    return xs[0]

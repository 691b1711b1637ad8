"""BatchNormalization at inference, per channel (the first per-frame axis).

float:  y[c] = (x[c] - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c]
A graph-only kind: the pass `fold_batchnorm` (mcuq.passes) folds it into the layer
before it (a Linear, per output channel), so it has no quantization, twin or kernel.
A BatchNorm that follows nothing foldable is refused by name at quantization.
"""
from __future__ import annotations

import numpy as np

from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import attrs, label

KIND = "batchnorm"
ONNX_TYPES = ("BatchNormalization",)
PRECISIONS = ()


def import_onnx(ctx, node) -> list:
    x = ctx.act(node.input[0], node)
    a = attrs(node)
    if a.get("training_mode", 0):
        raise McuqError(f"node {label(node)} (BatchNormalization) is in training mode; "
                        "export the model after model.eval()")
    channel_axis = x.frame_axis(1)
    if channel_axis != 0:
        raise McuqError(f"node {label(node)} (BatchNormalization) normalises axis 1 of shape "
                        f"{list(x.shape)}, which is not the model's feature or channel axis")
    gamma, beta, mean, var = (ctx.const(node.input[i], node).astype(np.float64)
                              for i in range(1, 5))
    eps = float(a.get("epsilon", 1e-5))
    if np.any(var + eps <= 0):
        c = int(np.argmax(var + eps <= 0))
        raise McuqError(f"node {label(node)} (BatchNormalization) has variance {var[c]:g} in "
                        f"channel {c} (with epsilon {eps:g}, not positive); the model's "
                        "statistics are broken")
    scale = gamma / np.sqrt(var + eps)
    weights = {"scale": scale.astype(np.float32),
               "shift": (beta - mean * scale).astype(np.float32)}
    out = ctx.add_layer(KIND, node, [x.tensor], weights)
    return [x.with_frame_shape(out, x.frame_shape)]


def per_channel(v: np.ndarray, rank: int) -> np.ndarray:
    """A per-channel vector shaped to broadcast over (batch, C, ...) of `rank` frame axes."""
    return v.reshape((-1,) + (1,) * (rank - 1))


def run_float(layer, xs, state) -> np.ndarray:
    x = xs[0]
    rank = x.ndim - 1
    return (x * per_channel(layer.weights["scale"], rank)
            + per_channel(layer.weights["shift"], rank)).astype(np.float32)

"""What cross-layer equalization (mcuq.passes.equalize) may do to a layer: divide its
output channel i by s_i (weights and bias, through a ReLU: relu(x / s) = relu(x) / s for
s > 0), or multiply the weights that read input channel i by s_i. Together they leave the
float function unchanged. Shared by the ops that declare them (linear, conv2d and the
recurrent layers' input projection)."""
from __future__ import annotations

import numpy as np


def _per_axis(s: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = -1
    return s.reshape(shape)


def scale_outputs(layer, s: np.ndarray) -> bool:
    """Output channel i / s_i; False (nothing changed) after a clamp other than a ReLU."""
    if layer.attrs.get("activation", "none") not in ("none", "relu"):
        return False
    w = layer.weights["weight"].astype(np.float64)
    layer.weights["weight"] = (w / _per_axis(s, 0, w.ndim)).astype(np.float32)
    layer.weights["bias"] = (layer.weights["bias"].astype(np.float64) / s).astype(np.float32)
    return True


def scale_inputs(layer, key: str, s: np.ndarray) -> None:
    """The weights `key` [out][in][...] that read input channel i, times s_i."""
    w = layer.weights[key].astype(np.float64)
    layer.weights[key] = (w * _per_axis(s, 1, w.ndim)).astype(np.float32)


def outputs_of(layer) -> np.ndarray:
    """The weight as [output channel][...]: what a channel's range is read from."""
    w = layer.weights["weight"]
    return w.reshape(len(w), -1)


def inputs_of(layer, key: str) -> np.ndarray:
    """Weights `key` as [input channel][...]."""
    w = np.moveaxis(layer.weights[key], 1, 0)
    return w.reshape(len(w), -1)


def dense_inputs_of(layer) -> np.ndarray:
    """A Linear's or Conv's weight as [input channel][...]."""
    return inputs_of(layer, "weight")


def scale_dense_inputs(layer, s: np.ndarray) -> None:
    scale_inputs(layer, "weight", s)

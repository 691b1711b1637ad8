"""The order in which layers meet frames.

A streaming model runs frame-major: every layer on frame t, then every layer on frame
t + 1 (`run_frame` in C, `step` in the NumPy executors). A model with a layer that reads
its sequence backwards (a reverse or bidirectional recurrent layer) cannot: it runs
layer-major over a whole sequence, each layer on every frame before the next layer
starts, a reverse layer from the last frame to the first (`run_sequence` in C). For a
model without reverse layers both orders give the same values, so the NumPy executors
always run layer-major over the sequences they are given.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def reverse(layer) -> bool:
    """Whether a layer (IR or quantized) reads its frames from the last to the first."""
    attrs = getattr(layer, "attrs", None)
    if attrs is None:
        attrs = layer.params
    return bool(attrs.get("reverse", 0))


def frame_order(layer, frames: int) -> range:
    return range(frames - 1, -1, -1) if reverse(layer) else range(frames)


def is_sequence(layers) -> bool:
    """Whether a model must run over whole sequences (a layer reads them backwards)."""
    return any(reverse(layer) for layer in layers)


def run_layer_major(layers, input_name: str, x: np.ndarray,
                    run: Callable[[object, list, int], np.ndarray],
                    observe: Callable | None = None, keep: str | None = None
                    ) -> dict[str, np.ndarray]:
    """Every layer over every frame of x (batch, time, *shape), layer by layer:
    run(layer, xs, t) gives the layer's output on frame t from its inputs' frames xs;
    observe(layer, y, t), when given, sees each output frame as it is made. Returns every
    tensor as (batch, time, *shape), or with `keep` only that one (the others are let go
    after their last reader, so that a large batch of images needs the memory of a few
    tensors, not of all)."""
    values = {input_name: x}
    frames = x.shape[1]
    last_read = {name: i for i, layer in enumerate(layers) for name in layer.inputs}
    for index, layer in enumerate(layers):
        ys: list = [None] * frames
        for t in frame_order(layer, frames):
            ys[t] = run(layer, [values[name][:, t] for name in layer.inputs], t)
            if observe is not None:
                observe(layer, ys[t], t)
        values[layer.outputs[0]] = np.stack(ys, axis=1)
        if keep is not None:
            for name in set(layer.inputs):
                if last_read[name] == index and name != keep:
                    del values[name]
    return values

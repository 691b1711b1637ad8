"""The classifier's task of `mcuq robustness` (mcuq.robustness): top-1 error."""
from __future__ import annotations

import numpy as np

from mcuq.data import as_sequences
from mcuq.errors import McuqError
from mcuq.qgraph import QGraph
from mcuq.engine import simulator


class Classification:
    """Top-1 error (%) on labelled images."""

    metric = "top1-error"
    higher_is_better = False

    def __init__(self, qgraph: QGraph, source: str, limit: int | None, engine: str = "auto"):
        from mcuq.vision.loaders import load_images

        images, labels, _ = load_images(source, size=None)
        if labels is None:
            raise McuqError(f"{source}: the images have no labels; top-1 error needs them (a "
                            "folder of class folders, CIFAR-10, or an .npz with 'labels')")
        self.images, self.labels = images[:limit], labels[:limit]
        self.inputs = as_sequences(self.images, qgraph.input_tensor.shape,
                                   qgraph.meta.get("recurrent", False), "evaluation images")
        self.items = len(self.labels)
        self.engine = engine

    def score(self, qgraph: QGraph) -> float:
        with np.errstate(all="ignore"):
            # one thread: the sweep runs its patterns on the cores in parallel
            logits = simulator(qgraph, engine=self.engine, threads=1).run(
                self.inputs).reshape(self.items, -1)
        logits = np.where(np.isnan(logits), -np.inf, logits)
        return float(100.0 * (logits.argmax(1) != self.labels).mean())

"""The speech model's task of `mcuq robustness` (mcuq.robustness): PESQ, STOI or
SI-SDR of the enhanced clips of a corpus split."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.errors import McuqError
from mcuq.qgraph import QGraph
from mcuq.engine import simulator

METRICS = ("pesq", "stoi", "si-sdr")


class Enhancement:
    """PESQ (wide band), STOI or SI-SDR of the enhanced clips of a speech corpus split."""

    higher_is_better = True

    def __init__(self, qgraph: QGraph, root: Path, split: str, limit: int | None, metric: str,
                 engine: str = "auto"):
        from mcuq.speech import audio
        from mcuq.speech.data import load_split

        if qgraph.input_tensor.shape != (audio.BINS,) or qgraph.output_tensor.shape != (audio.BINS,):
            raise McuqError(f"the export maps {list(qgraph.input_tensor.shape)} to "
                            f"{list(qgraph.output_tensor.shape)} features; a speech corpus needs "
                            f"a {audio.BINS}-bin mask model")
        self.metric = metric
        self.engine = engine
        self.clips = load_split(root, split, limit)
        self.spectra = [audio.stft(noisy) for _, noisy, _ in self.clips]
        self.features = [audio.features(s) for s in self.spectra]
        self.items = len(self.clips)

    def score(self, qgraph: QGraph) -> float:
        from mcuq.speech import audio
        from mcuq.speech.evaluate import run_masks, scores

        # one thread: the sweep runs its patterns on the cores in parallel
        sim = simulator(qgraph, engine=self.engine, threads=1)
        with np.errstate(all="ignore"):
            masks = run_masks(sim.run, self.features)
        key = self.metric.replace("-", "_")
        values = []
        for (_, noisy, clean), spectrum, mask in zip(self.clips, self.spectra, masks):
            mask = np.nan_to_num(mask, nan=0.0, posinf=0.0, neginf=0.0)
            values.append(scores(clean, audio.apply_mask(spectrum, mask, noisy.size),
                                 only=key)[key])
        return float(np.nanmean(values))

"""Speech enhancement data as the models see it: spectra, features, masks, calibration."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.speech import audio
from mcuq.speech.corpus import find_pairs, load_clip


def ideal_mask(noisy_spec: np.ndarray, clean_spec: np.ndarray) -> np.ndarray:
    """Training target: |S| / |X| clipped to [0, 1] (a bounded magnitude ratio mask)."""
    return np.clip(np.abs(clean_spec) / (np.abs(noisy_spec) + 1e-8), 0.0, 1.0).astype(np.float32)


def load_split(root: Path, split: str, limit: int | None = None):
    """[(name, noisy samples, clean samples)] of a split, 16 kHz."""
    pairs = find_pairs(root, split)[:limit]
    return [(noisy.name, load_clip(noisy), load_clip(clean)) for noisy, clean in pairs]


def training_spectra(root: Path, split: str = "train", limit: int | None = None):
    """Per clip (features, mask), each (frames, 257) float32."""
    out = []
    for _, noisy, clean in load_split(root, split, limit):
        n, c = audio.stft(noisy), audio.stft(clean)
        out.append((audio.features(n), ideal_mask(n, c)))
    return out


def calibration_array(root: Path, split: str = "calib", frames: int = 200) -> np.ndarray:
    """(clips, frames, 257) features for calibration: each clip's first `frames` frames
    (shorter clips repeat from their start)."""
    items = []
    for _, noisy, _ in load_split(root, split):
        f = audio.features(audio.stft(noisy))
        reps = -(-frames // f.shape[0])
        items.append(np.concatenate([f] * reps)[:frames])
    return np.stack(items).astype(np.float32)

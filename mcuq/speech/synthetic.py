"""Synthetic noisy/clean spectral frames for examples and tests (no download needed).

"Speech" is a harmonic comb with a drifting pitch under a formant-like envelope that
switches on and off like syllables; noise is stationary coloured noise. Features are
log(1 + |STFT magnitude|), the training target is the ideal ratio mask
|clean| / (|clean| + |noise|).
"""
from __future__ import annotations

import numpy as np


def spectral_pairs(items: int, frames: int, bins: int = 257, seed: int = 0):
    """(features, mask), each (items, frames, bins) float32."""
    rng = np.random.default_rng(seed)
    freq = np.linspace(0, 8000, bins)
    feats = np.empty((items, frames, bins), np.float32)
    masks = np.empty_like(feats)
    for n in range(items):
        f0 = rng.uniform(90, 250) * (1 + 0.1 * np.sin(np.linspace(0, rng.uniform(1, 6), frames)))
        formants = rng.uniform([300, 900, 2200], [900, 2200, 3500])
        envelope = sum(np.exp(-0.5 * ((freq - f) / 200) ** 2) for f in formants)
        voiced = (np.sin(np.linspace(0, rng.uniform(4, 12), frames) + rng.uniform(0, 6)) > -0.2)
        tilt = rng.uniform(-3, 1)
        noise_level = 10 ** rng.uniform(-1.5, 0.2)
        for t in range(frames):
            harmonics = np.exp(-0.5 * ((freq[None, :] % f0[t]) / 25) ** 2).sum(axis=0)
            clean = 8 * voiced[t] * (harmonics + 0.05) * (0.2 + envelope)
            noise = noise_level * (1 + freq / 8000) ** tilt * rng.rayleigh(1.0, bins) * 4
            masks[n, t] = clean / (clean + noise + 1e-6)
            feats[n, t] = np.log1p(clean + noise)
    return feats, masks


def train_quick(model, items: int = 64, frames: int = 100, steps: int = 300, seed: int = 0):
    """Fit a mask model to synthetic pairs for a few hundred Adam steps (CPU, ~1 min)."""
    import torch

    torch.manual_seed(seed)
    feats, masks = spectral_pairs(items, frames, seed=seed)
    x, y = torch.from_numpy(feats), torch.from_numpy(masks)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(steps):
        idx = torch.randint(0, items, (8,))
        loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss)

"""Image sets that need no download, as (images float32 (N, C, H, W) in [0, 1], labels
int64 (N,)).

digits  scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes),
        upscaled to size x size (bilinear); the training split is augmented with random
        shifts, scaling and noise, the test split is not.
shapes  a procedurally drawn, harder 10-class RGB set: one of ten shapes (disc, ring,
        square, frame, triangle, cross, plus, horizontal bars, vertical bars, checker)
        in a random colour, size and place, over a noisy random-colour background, with
        a distracting blob and a fainter shape of another class; colours are drawn
        independently of the class and the contrast varies, so neither colour nor
        brightness gives the class away.
Both are deterministic given the seed.
"""
from __future__ import annotations

import numpy as np

CLASSES = {"digits": [str(d) for d in range(10)],
           "shapes": ["disc", "ring", "square", "frame", "triangle", "cross", "plus",
                      "hbars", "vbars", "checker"]}
SPLIT_SEED = {"train": 1, "test": 2}


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    """(N, h, w) -> (N, size, size), bilinear, align-corners."""
    n, h, w = images.shape
    ys, xs = np.linspace(0, h - 1, size), np.linspace(0, w - 1, size)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = images[:, y0][:, :, x0] * (1 - fx) + images[:, y0][:, :, x1] * fx
    bottom = images[:, y1][:, :, x0] * (1 - fx) + images[:, y1][:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def _shift_scale(image: np.ndarray, rng, max_shift: float, scale_range) -> np.ndarray:
    """One (H, W) image moved and scaled about its centre (nearest sampling)."""
    h, w = image.shape
    s = rng.uniform(*scale_range)
    dy, dx = rng.uniform(-max_shift, max_shift, 2)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    sy = np.clip(np.round((yy - h / 2 - dy) / s + h / 2), 0, h - 1).astype(int)
    sx = np.clip(np.round((xx - w / 2 - dx) / s + w / 2), 0, w - 1).astype(int)
    inside = (np.abs((yy - h / 2 - dy) / s) < h / 2) & (np.abs((xx - w / 2 - dx) / s) < w / 2)
    return np.where(inside, image[sy, sx], 0.0)


def digits(split: str, size: int = 32, copies: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The digits split: 1,397 training images (x `copies` augmented versions) or 400
    test images."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    index = order[:1397] if split == "train" else order[1397:]
    images = _resize(data.images[index] / 16.0, size)
    labels = data.target[index].astype(np.int64)
    if split == "train":
        rng = np.random.default_rng(SPLIT_SEED[split])
        out = [images]
        for _ in range(copies - 1):
            moved = np.stack([_shift_scale(im, rng, size / 8, (0.8, 1.15)) for im in images])
            out.append(np.clip(moved + rng.normal(0, 0.05, moved.shape), 0, 1))
        images, labels = np.concatenate(out), np.tile(labels, copies)
    return images[:, None].astype(np.float32), labels


def _shape_mask(kind: int, size: int, rng) -> np.ndarray:
    r = rng.uniform(0.18, 0.36) * size
    cy, cx = rng.uniform(r, size - r, 2)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dy, dx = yy - cy, xx - cx
    t = max(1.5, r * 0.3)
    if kind == 0:
        return dy ** 2 + dx ** 2 <= r ** 2
    if kind == 1:
        d = np.sqrt(dy ** 2 + dx ** 2)
        return (d <= r) & (d >= r - t)
    if kind == 2:
        return (np.abs(dy) <= r * 0.8) & (np.abs(dx) <= r * 0.8)
    if kind == 3:
        box = (np.abs(dy) <= r * 0.85) & (np.abs(dx) <= r * 0.85)
        return box & ~((np.abs(dy) <= r * 0.85 - t) & (np.abs(dx) <= r * 0.85 - t))
    if kind == 4:
        return (dy <= r * 0.7) & (dy >= -r) & (np.abs(dx) <= (dy + r) * 0.6)
    if kind == 5:
        return ((np.abs(dy - dx) <= t * 0.8) | (np.abs(dy + dx) <= t * 0.8)) & \
            (np.abs(dy) <= r) & (np.abs(dx) <= r)
    if kind == 6:
        return ((np.abs(dy) <= t / 2) | (np.abs(dx) <= t / 2)) & (np.abs(dy) <= r) & (np.abs(dx) <= r)
    inside = (np.abs(dy) <= r) & (np.abs(dx) <= r)
    period = max(3, int(r / 2))
    if kind == 7:
        return inside & ((yy.astype(int) // period) % 2 == 0)
    if kind == 8:
        return inside & ((xx.astype(int) // period) % 2 == 0)
    return inside & (((yy.astype(int) // period) + (xx.astype(int) // period)) % 2 == 0)


def shapes(split: str, count: int = 2000, size: int = 32, part: int = 0
           ) -> tuple[np.ndarray, np.ndarray]:
    """`count` images of the shapes set (balanced classes); `part` > 0 draws another,
    independent batch of the split (to stream a large set in parts)."""
    rng = np.random.default_rng(100 + SPLIT_SEED[split] + 1000 * part)
    labels = np.arange(count, dtype=np.int64) % 10
    rng.shuffle(labels)
    images = np.empty((count, 3, size, size), np.float32)
    for i, kind in enumerate(labels):
        background = rng.uniform(0, 1, 3)[:, None, None] * rng.uniform(0.2, 0.6)
        image = background + rng.normal(0, 0.15, (3, size, size))
        blob = _shape_mask(0, size, rng) & (rng.random() < 0.5)
        image = np.where(blob, rng.uniform(0, 1, 3)[:, None, None] * 0.5, image)
        other = (int(kind) + int(rng.integers(1, 10))) % 10
        faint = background + (rng.uniform(0, 1, 3)[:, None, None] - background) * 0.35
        image = np.where(_shape_mask(other, size, rng), faint, image)
        contrast = rng.uniform(0.45, 1.0)
        colour = background + (rng.uniform(0, 1, 3)[:, None, None] - background) * contrast
        colour = np.where(np.abs(colour - background).max() < 0.25, 1.0 - background, colour)
        image = np.where(_shape_mask(int(kind), size, rng), colour, image)
        images[i] = np.clip(image + rng.normal(0, 0.05, (3, size, size)), 0, 1)
    return images, labels


def load(name: str, split: str, **kw) -> tuple[np.ndarray, np.ndarray]:
    if name == "digits":
        return digits(split, **kw)
    if name == "shapes":
        return shapes(split, **kw)
    raise ValueError(name)

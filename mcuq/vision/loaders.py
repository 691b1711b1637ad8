"""A user's images as mcuq image data: (images float32 (N, C, H, W) in [0, 1], labels
int64 (N,) or None, class names).

Accepted sources:
  digits:train, digits:test, shapes:train, shapes:test   the bundled sets
  a folder of class folders of PNG/JPEG files              folder names are the classes
  a CIFAR-10 binary file (*.bin) or a folder holding them  read with NumPy: each record
                                                           is 1 label byte + 3,072 pixel
                                                           bytes; never unpickled
  an .npz with 'x' (images) and optionally 'labels'        (N, C, H, W) or (N, H, W, C),
                                                           uint8 0-255 or floats
Images are resized to `size` x `size` (bilinear) when they differ.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.errors import McuqError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CIFAR_RECORD = 1 + 3 * 32 * 32
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck"]


def load_images(source: str, size: int | None = 32) -> tuple[np.ndarray, np.ndarray | None, list]:
    from mcuq.vision import datasets

    name, _, split = source.partition(":")
    if name in datasets.CLASSES and split in ("train", "test") and not Path(source).exists():
        images, labels = datasets.load(name, split)
        return _sized(images, size), labels, datasets.CLASSES[name]
    path = Path(source)
    if not path.exists():
        raise McuqError(f"image source not found: {source} (give a folder of class folders, a "
                        "CIFAR-10 .bin file, an .npz, or digits:train|test, shapes:train|test)")
    if path.is_dir():
        bins = sorted(path.glob("*.bin"))
        images, labels, classes = _cifar(bins) if bins else _folder(path)
    elif path.suffix == ".bin":
        images, labels, classes = _cifar([path])
    elif path.suffix == ".npz":
        images, labels, classes = _npz(path)
    else:
        raise McuqError(f"{path}: not an image source mcuq reads (a folder, a CIFAR-10 .bin "
                        "file or an .npz)")
    return _sized(images, size), labels, classes


def _resized(image: np.ndarray, h: int, w: int, resample=None) -> np.ndarray:
    """One (C, H, W) float image resized to (C, h, w), plane by plane with PIL (its
    default filter unless `resample` is given)."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(plane.astype(np.float32), mode="F").resize(
        (w, h), resample)) for plane in image])


def _sized(images: np.ndarray, size: int | None) -> np.ndarray:
    if size is None or images.shape[2:] == (size, size):
        return images.astype(np.float32)
    from PIL import Image

    return np.stack([_resized(image, size, size, Image.BILINEAR) for image in images])


def _folder(path: Path):
    from PIL import Image, UnidentifiedImageError

    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    if not classes:
        raise McuqError(f"{path} holds no class folders (expected {path}/<class>/<image>.png)")
    images, labels, mode = [], [], None
    for label, name in enumerate(classes):
        files = sorted(f for f in (path / name).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        for f in files:
            try:
                with Image.open(f) as im:
                    im.load()
                    mode = mode or ("L" if im.mode in ("L", "1", "I;16") else "RGB")
                    array = np.asarray(im.convert(mode), np.float32) / 255.0
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                raise McuqError(f"{f} is not a readable image ({exc})") from None
            images.append(array[None] if array.ndim == 2 else array.transpose(2, 0, 1))
            labels.append(label)
    if not images:
        raise McuqError(f"{path} holds no PNG or JPEG images in its class folders "
                        f"({', '.join(classes)})")
    if len({im.shape for im in images}) > 1:  # every image to the first one's size
        h, w = images[0].shape[1:]
        images = [_resized(im, h, w) for im in images]
    return np.stack(images), np.array(labels, np.int64), classes


def _cifar(files):
    records = []
    for f in files:
        raw = np.fromfile(f, np.uint8)
        if raw.size == 0 or raw.size % CIFAR_RECORD:
            raise McuqError(f"{f} is not a CIFAR-10 binary file ({raw.size} bytes is not a "
                            f"multiple of {CIFAR_RECORD})")
        records.append(raw.reshape(-1, CIFAR_RECORD))
    data = np.concatenate(records)
    if data[:, 0].max() > 9:
        raise McuqError(f"{files[0]} is not a CIFAR-10 binary file (a label above 9)")
    images = data[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    return images, data[:, 0].astype(np.int64), list(CIFAR_CLASSES)


def _npz(path: Path):
    try:
        with np.load(path, allow_pickle=False) as z:
            if "x" not in z:
                raise McuqError(f"{path} has no array 'x' (the images); it holds "
                                f"{', '.join(z.keys()) or 'nothing'}")
            x = z["x"]
            labels = z["labels"].astype(np.int64) if "labels" in z else None
            classes = [str(c) for c in z["classes"]] if "classes" in z else None
    except (ValueError, OSError) as exc:
        raise McuqError(f"{path} is not a readable .npz ({exc})") from None
    if x.ndim != 4 or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise McuqError(f"{path}: 'x' has shape {list(x.shape)} of {x.dtype}; mcuq needs images "
                        "(N, C, H, W) or (N, H, W, C) of numbers")
    if x.shape[1] not in (1, 3) and x.shape[3] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    x = x.astype(np.float32) / (255.0 if np.issubdtype(x.dtype, np.integer) else 1.0)
    if labels is not None and labels.shape != (x.shape[0],):
        raise McuqError(f"{path}: 'labels' has shape {list(labels.shape)}; expected "
                        f"({x.shape[0]},), one per image")
    if classes is None and labels is not None:
        classes = [str(c) for c in range(int(labels.max()) + 1)]
    return x, labels, classes or []


def save_images(path: Path, images: np.ndarray, labels: np.ndarray | None, classes) -> None:
    """mcuq image data: 'x' (the model input for export and calibration), 'labels',
    'classes' (a unicode array: no pickled objects)."""
    from mcuq.files import atomic_file

    arrays = {"x": images.astype(np.float32), "classes": np.array(classes, dtype=str)}
    if labels is not None:
        arrays["labels"] = labels.astype(np.int64)
    with atomic_file(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

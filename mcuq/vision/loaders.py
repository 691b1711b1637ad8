"""A user's images as mcuq image data: (images float32 (N, C, H, W) in [0, 1], labels
int64 (N,) or None, class names).

Accepted sources:
  digits:train, digits:test, shapes:train, shapes:test   the bundled sets
  a folder of class folders of PNG/JPEG files              folder names are the classes
  a CIFAR-10 binary file (*.bin) or a folder holding them  read with NumPy: each record
                                                           is 1 label byte + 3,072 pixel
                                                           bytes; never unpickled
  an .npz with 'x' (images) and optionally 'labels'        (N, C, H, W) or (N, H, W, C),
                                                           uint8, uint16 or floats
Images are resized to `size` x `size` (bilinear) when they differ. A folder whose images
mix grey and colour gives colour images (a grey one in all three channels); 16-bit images
are scaled by 65535, 8-bit ones by 255.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuq.errors import McuqError
from mcuq.inputs import input_file

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


GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
MAX_PIXELS = 1 << 26  # per image: far above any input of an MCU model, far below a bomb


def _open_image(f: Path):
    """A PIL image, opened lazily (header only); a decompression bomb is refused."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    input_file(f, "image")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(f)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise McuqError(f"{f} has more than {MAX_PIXELS} pixels, beyond any image mcuq reads "
                        "(a decompression bomb?)") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise McuqError(f"{f} is not a readable image ({exc})") from None


def _pixels(im, colour: bool) -> np.ndarray:
    """(C, H, W) float32 in [0, 1]: 8-bit modes / 255, 16-bit greys / 65535; a grey image
    in a set that has colour images is repeated into three channels."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        grey = np.asarray(im).astype(np.float32) / 65535.0
    elif im.mode == "F":
        grey = np.asarray(im, np.float32)
    elif not colour or im.mode in ("1", "L", "LA"):
        grey = np.asarray(im.convert("L"), np.float32) / 255.0
    else:
        return np.asarray(im.convert("RGB"), np.float32).transpose(2, 0, 1) / 255.0
    return np.repeat(grey[None], 3, axis=0) if colour else grey[None]


def _folder(path: Path):
    classes = sorted(p.name for p in path.iterdir() if p.is_dir())
    if not classes:
        raise McuqError(f"{path} holds no class folders (expected {path}/<class>/<image>.png)")
    files = [(label, f) for label, name in enumerate(classes)
             for f in sorted((path / name).iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise McuqError(f"{path} holds no PNG or JPEG images in its class folders "
                        f"({', '.join(classes)})")
    modes = []
    for _, f in files:  # headers only: does any image have colour?
        with _open_image(f) as im:
            modes.append(im.mode)
    colour = any(m not in GREY_MODES for m in modes)
    images, labels = [], []
    for label, f in files:
        with _open_image(f) as im:
            try:
                im.load()
                images.append(_pixels(im, colour))
            except (OSError, ValueError, SyntaxError) as exc:
                raise McuqError(f"{f} is not a readable image ({exc})") from None
        labels.append(label)
    if len({im.shape for im in images}) > 1:  # every image to the first one's size
        h, w = images[0].shape[1:]
        images = [_resized(im, h, w) for im in images]
    return np.stack(images), np.array(labels, np.int64), classes


def _cifar(files):
    records = []
    for f in files:
        raw = np.fromfile(input_file(f, "CIFAR-10 file"), np.uint8)
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
    from mcuq.inputs import load_arrays

    z = load_arrays(path, "image data")
    if not isinstance(z, dict) or "x" not in z:
        held = ", ".join(z) if isinstance(z, dict) else "one unnamed array"
        raise McuqError(f"{path} has no array 'x' (the images); it holds {held or 'nothing'}")
    x = z["x"]
    labels = z["labels"].astype(np.int64) if "labels" in z else None
    classes = [str(c) for c in z["classes"]] if "classes" in z else None
    if x.ndim != 4 or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise McuqError(f"{path}: 'x' has shape {list(x.shape)} of {x.dtype}; mcuq needs images "
                        "(N, C, H, W) or (N, H, W, C) of numbers")
    if x.shape[1] not in (1, 3) and x.shape[3] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    return _unit_range(x, path), _labels(labels, x.shape[0], path), classes or (
        [str(c) for c in range(int(labels.max()) + 1)] if labels is not None and labels.size else [])


def _unit_range(x: np.ndarray, path: Path) -> np.ndarray:
    """Pixels in [0, 1]: uint8 / 255, uint16 / 65535, floats as they are; other integer
    types only when their values fit 8 bits."""
    if x.dtype == np.uint8 or x.dtype == np.uint16:
        return x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    if np.issubdtype(x.dtype, np.integer):
        low, high = (int(x.min()), int(x.max())) if x.size else (0, 0)
        if low < 0 or high > 255:
            raise McuqError(f"{path}: 'x' holds {x.dtype} values from {low} to {high}; store "
                            "uint8 (0-255), uint16 (0-65535) or floats in [0, 1]")
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32)


def _labels(labels, n: int, path: Path):
    if labels is not None and labels.shape != (n,):
        raise McuqError(f"{path}: 'labels' has shape {list(labels.shape)}; expected "
                        f"({n},), one per image")
    return labels


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

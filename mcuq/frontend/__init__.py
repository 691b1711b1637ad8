"""Model loading, import into the mcuq IR, and the graph passes."""
from __future__ import annotations

from pathlib import Path

from mcuq.frontend.load import model_to_onnx
from mcuq.frontend.onnx_import import import_onnx
from mcuq.ir import Graph
from mcuq.passes import run_passes


def load_model(path: str | Path, features: int | None = None, frames: int = 16,
               image: tuple[int, int, int] | None = None):
    """(onnx model, IR graph after the graph passes) for a model file of any accepted
    format."""
    model = model_to_onnx(Path(path), example_frames=frames, features=features, image=image)
    return model, run_passes(import_onnx(model))


__all__ = ["load_model", "import_onnx", "Graph"]

"""Load a model file into ONNX, recognising the format by content, never running its code.

Accepted: ONNX (`.onnx`), torch.export programs (`torch.export.save`, `.pt2`) and
TorchScript (`torch.jit.save`, `.pt`). The two PyTorch formats are converted with
`torch.onnx.export`. A `torch.save` file (a state_dict or a pickled module) is
recognised without unpickling arbitrary objects and refused with what to do.
"""
from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import onnx

from mcuq.errors import McuqError

HOW_TO_SAVE = ("save the model with torch.jit.save(torch.jit.trace(model, example), 'model.pt'), "
               "torch.export.save(torch.export.export(model, (example,)), 'model.pt2') or "
               "torch.onnx.export(model, (example,), 'model.onnx')")


def detect_format(path: Path) -> str:
    """'onnx', 'torchscript', 'torch_export' or 'torch_save' from the file's content."""
    if not path.exists():
        raise McuqError(f"model file not found: {path}")
    if path.is_dir():
        raise McuqError(f"model path is a directory, not a file: {path}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            return "torchscript"
        if any(n.endswith("models/model.json") or n.endswith("serialized_exported_program.json")
               for n in names):
            return "torch_export"
        if any(n.endswith("data.pkl") for n in names):
            return "torch_save"
        raise McuqError(f"{path} is a zip archive but not a model mcuq knows; {HOW_TO_SAVE}")
    return "onnx"


def load_onnx(path: Path) -> onnx.ModelProto:
    try:
        model = onnx.load(str(path))
    except Exception:  # protobuf decode errors have several types
        raise McuqError(f"{path} is not a valid ONNX file (it could not be parsed); "
                        f"re-export it, or {HOW_TO_SAVE}") from None
    if not model.graph.node:
        raise McuqError(f"{path} is not a valid ONNX model: its graph has no nodes")
    return model


def explain_torch_save(path: Path) -> McuqError:
    """A torch.save file: say whether it is a state_dict, without running its code."""
    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception:
        return McuqError(f"{path} is a pickled Python object (torch.save of a module); loading it "
                         f"would run code from the file, so mcuq does not. Instead, {HOW_TO_SAVE}")
    what = "a state_dict (weights without the network)" if isinstance(obj, dict) else \
        f"a torch.save file holding {type(obj).__name__}"
    return McuqError(f"{path} is {what}; mcuq needs the network too: {HOW_TO_SAVE}")


def model_to_onnx(path: Path, example_frames: int = 16, features: int | None = None,
                  ) -> onnx.ModelProto:
    """The model at `path` as ONNX. `features` (from calibration data) shapes the
    example input that a TorchScript model needs to be exported."""
    fmt = detect_format(path)
    if fmt == "onnx":
        return load_onnx(path)
    if fmt == "torch_save":
        raise explain_torch_save(path)
    if fmt == "torch_export":
        return _export_program_to_onnx(path)
    return _torchscript_to_onnx(path, example_frames, features)


def _onnx_from_buffer(buffer: io.BytesIO) -> onnx.ModelProto:
    return onnx.load_from_string(buffer.getvalue())


def _export_program_to_onnx(path: Path) -> onnx.ModelProto:
    import torch

    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise McuqError(f"{path} could not be loaded as a torch.export program: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    with warnings.catch_warnings(), _quiet():
        warnings.simplefilter("ignore")
        try:
            onnx_program = torch.onnx.export(program, dynamo=True, verbose=False)
        except Exception as exc:
            raise McuqError(f"torch.onnx.export could not convert {path}: "
                            f"{_first_line(exc)}") from None
    return onnx_program.model_proto


def _torchscript_to_onnx(path: Path, frames: int, features: int | None) -> onnx.ModelProto:
    import torch

    from mcuq.frontend.onnx_import import import_onnx

    if features is None:
        raise McuqError(f"{path} is TorchScript, whose input shape is not stored; pass calibration "
                        "data (--calib) so mcuq knows the number of input features")
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise McuqError(f"{path} could not be loaded as TorchScript: {_first_line(exc)}") from None
    module.eval()
    # A traced module does not record its input layout: try (1, time, features),
    # then (time, 1, features) and unbatched (time, features), keeping the first
    # whose export the importer accepts (a wrong guess fails at the RNN's layout).
    errors = []
    for shape, time_axis in (((1, frames, features), 1), ((frames, 1, features), 0),
                             ((frames, features), 0)):
        example = torch.zeros(shape)
        buffer = io.BytesIO()
        with warnings.catch_warnings(), _quiet():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(module, (example,), buffer, dynamo=False,
                                  input_names=["input"], output_names=["output"],
                                  dynamic_axes={"input": {time_axis: "time"}})
            except Exception as exc:
                errors.append(_first_line(exc))
                continue
        model = _onnx_from_buffer(buffer)
        try:
            import_onnx(model)
        except McuqError as exc:
            errors.append(str(exc))
            continue
        return model
    raise McuqError(f"could not convert TorchScript {path} to ONNX with an input of {features} "
                    f"features: {errors[-1]}")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _quiet:
    """Silence the exporters' progress prints and log warnings."""

    def __enter__(self):
        import contextlib
        import logging

        self._stack = contextlib.ExitStack()
        sink = io.StringIO()
        self._stack.enter_context(contextlib.redirect_stdout(sink))
        self._stack.enter_context(contextlib.redirect_stderr(sink))
        self._loggers = [(log, log.level) for log in
                         (logging.getLogger("torch.onnx"), logging.getLogger("torch.export"))]
        for log, _ in self._loggers:
            log.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        for log, level in self._loggers:
            log.setLevel(level)
        self._stack.close()
        return False

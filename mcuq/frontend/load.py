"""Load a model file into ONNX, recognising the format by content, never running its code.

Accepted: ONNX (`.onnx`), torch.export programs (`torch.export.save`, `.pt2`) and
TorchScript (`torch.jit.save`, `.pt`). The two PyTorch formats are converted with
`torch.onnx.export`. A `torch.save` file (a state_dict or a pickled module) is
recognised without unpickling arbitrary objects and refused with what to do.

Trust: an ONNX file is data. A .pt2 archive is checked entry by entry before torch
reads it (`check_pt2_archive`): every payload torch would unpickle must load with
torch's restricted unpickler (`weights_only=True`: tensors and plain containers), and
archives carrying Python objects or compiled native code are refused, naming the
entry; so torch's loader never reaches its unrestricted fallback. A TorchScript file
is run by TorchScript's own interpreter while it is traced to ONNX: it can use any
operator registered in torch (compute, allocate, loop) but cannot import Python
modules or call Python functions (see the README).
"""
from __future__ import annotations

import contextlib
import io
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import onnx

from mcuq.errors import McuqError
from mcuq.inputs import input_file, parse_json

HOW_TO_SAVE = ("save the model with torch.jit.save(torch.jit.trace(model, example), 'model.pt'), "
               "torch.export.save(torch.export.export(model, (example,)), 'model.pt2') or "
               "torch.onnx.export(model, (example,), 'model.onnx')")


def detect_format(path: Path) -> str:
    """'onnx', 'torchscript', 'torch_export' or 'torch_save' from the file's content."""
    input_file(path, "model")
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise McuqError(f"{path} is empty; {HOW_TO_SAVE}")
    if head == b"PK\x03\x04" and not zipfile.is_zipfile(path):
        raise McuqError(f"{path} is a damaged zip archive (a truncated or corrupt PyTorch "
                        f"file?); save the model again: {HOW_TO_SAVE}")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise McuqError(f"{path} is a damaged zip archive ({exc}); save the model "
                            f"again: {HOW_TO_SAVE}") from None
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
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # protobuf decode errors have several types
        kind = ("not a valid ONNX file" if path.suffix.lower() == ".onnx" else
                "neither an ONNX file nor a PyTorch archive (TorchScript or torch.export)")
        raise McuqError(f"{path} is {kind}: it could not be parsed; re-export it, or "
                        f"{HOW_TO_SAVE}") from None
    if not model.graph.node:
        raise McuqError(f"{path} is not a valid ONNX model: its graph has no nodes")
    load_external_data(model, path)
    return model


def load_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Tensors whose data lies in files beside the model: each file must be a regular file
    inside the model's folder (no absolute path, no "..", no symlink out of it) and hold
    the bytes the tensor declares."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    folder = path.resolve().parent
    tensors = [t for t in _all_tensors(model.graph) if uses_external_data(t)]
    for t in tensors:
        info = ExternalDataInfo(t)
        where = f"{path}: tensor '{t.name}' keeps its data in '{info.location}'"
        target = (folder / info.location).resolve()
        if Path(info.location).is_absolute() or folder not in target.parents:
            raise McuqError(f"{where}, outside the model's folder; mcuq reads external data "
                            f"only from files beside the model (in {folder})")
        if not target.exists():
            raise McuqError(f"{where}, which does not exist; copy it beside the model")
        input_file(target, "external data")
        need = int(info.offset or 0) + (int(info.length) if info.length else 0)
        have = target.stat().st_size
        if have < max(need, 1):
            raise McuqError(f"{where}, which holds {have} bytes; the tensor needs bytes up to "
                            f"{max(need, 1)}: the file is truncated or not this model's")
    if tensors:
        try:
            onnx.load_external_data_for_model(model, str(folder))
        except Exception as exc:  # onnx's own error types vary
            raise McuqError(f"{path}: its external data cannot be read ({exc})") from None
        for t in tensors:
            itemsize = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
            if len(t.raw_data) != itemsize * int(np.prod(t.dims, dtype=np.int64)):
                raise McuqError(f"{path}: tensor '{t.name}' has {len(t.raw_data)} bytes of "
                                f"external data; its shape {list(t.dims)} needs "
                                f"{itemsize * int(np.prod(t.dims, dtype=np.int64))}")


def _all_tensors(graph):
    """Initializers and constant-node tensors, subgraphs included."""
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                yield a.t
            elif a.type == onnx.AttributeProto.GRAPH:
                yield from _all_tensors(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for g in a.graphs:
                    yield from _all_tensors(g)


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
                  image: tuple[int, int, int] | None = None) -> onnx.ModelProto:
    """The model at `path` as ONNX. `features` or an `image` shape (C, H, W) (from
    calibration data) shapes the example input that a TorchScript model needs to be
    exported."""
    fmt = detect_format(path)
    if fmt == "onnx":
        return load_onnx(path)
    if fmt == "torch_save":
        raise explain_torch_save(path)
    if fmt == "torch_export":
        return _export_program_to_onnx(path)
    return _torchscript_to_onnx(path, example_frames, features, image)


def _onnx_from_buffer(buffer: io.BytesIO) -> onnx.ModelProto:
    return onnx.load_from_string(buffer.getvalue())


def _pt2_refusal(path: Path, entry: str, why: str) -> McuqError:
    return McuqError(f"{path}: archive entry '{entry}' {why}; mcuq does not load it, because "
                     "that would run code from the file. Save the model again with "
                     "torch.export.save, or export it to ONNX")


# the entries torch.export.load unpickles in torch's pre-2.8 archive layout
LEGACY_PT2_PAYLOADS = ("serialized_state_dict.pt", "serialized_constants.pt",
                       "serialized_example_inputs.pt", "serialized_state_dict.json",
                       "serialized_constants.json")


def check_pt2_archive(path: Path) -> None:
    """Refuse a torch.export archive that would make torch run code while loading it:
    compiled AOTInductor code, pickled Python objects among the constants, and any payload
    torch unpickles (sample inputs, weights and constants saved with use_pickle, legacy
    weight files) that torch's restricted unpickler does not accept."""
    import torch

    from torch.export.pt2_archive import constants as c

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        roots = [n[:-len("archive_format")] for n in names if n.endswith("archive_format")]
        root = roots[0] if roots else ""
        entries = {n[len(root):]: n for n in names if n.startswith(root)}

        def unpickled(rel: str, what: str) -> None:
            if rel not in entries:
                return
            try:
                torch.load(io.BytesIO(archive.read(entries[rel])), map_location="cpu",
                           weights_only=True)
            except Exception:
                raise _pt2_refusal(path, entries[rel], f"({what}) holds pickled data beyond "
                                   "plain tensors") from None

        # torch's pre-2.8 layout, which torch.export.load falls back to when the current
        # one fails: these root entries go through torch.load, and on to its unrestricted
        # fallback, whatever their extension (a ".json" one included)
        for name in LEGACY_PT2_PAYLOADS:
            if name in names and archive.getinfo(name).file_size:
                try:
                    torch.load(io.BytesIO(archive.read(name)), map_location="cpu",
                               weights_only=True)
                except Exception:
                    raise _pt2_refusal(path, name, "(torch's older archive layout) holds "
                                       "pickled data beyond plain tensors") from None
        for rel, name in entries.items():
            if rel.startswith(c.AOTINDUCTOR_DIR):
                raise _pt2_refusal(path, name, "holds compiled AOTInductor code")
            if rel.startswith(c.SAMPLE_INPUTS_DIR):
                unpickled(rel, "sample inputs")
        for folder in (c.WEIGHTS_DIR, c.CONSTANTS_DIR):
            for rel in [r for r in entries if r.startswith(folder) and r.endswith(".pt")]:
                unpickled(rel, "legacy payload")
            for rel in [r for r in entries if r.startswith(folder) and r.endswith("_config.json")]:
                try:
                    config = parse_json(archive.read(entries[rel]), entries[rel]).get("config", {})
                    metas = list(config.values())
                except (McuqError, AttributeError):
                    raise _pt2_refusal(path, entries[rel], "is not valid JSON") from None
                for meta in metas:
                    if not isinstance(meta, dict):
                        raise _pt2_refusal(path, entries[rel], "is not a weights config")
                    file = str(meta.get("path_name", ""))
                    if file.startswith((c.CUSTOM_OBJ_FILENAME_PREFIX, c.OPAQUE_OBJ_FILENAME_PREFIX)):
                        raise _pt2_refusal(path, entries.get(folder + file, folder + file),
                                           "is a pickled Python object")
                    if meta.get("use_pickle"):
                        unpickled(folder + file, "pickled tensor")


def _export_program_to_onnx(path: Path) -> onnx.ModelProto:
    import torch

    check_pt2_archive(path)
    try:
        with _restricted_unpickling():
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


TORCHSCRIPT_TIMEOUT_S = 600  # MCUQ_TORCHSCRIPT_TIMEOUT overrides


def _torchscript_to_onnx(path: Path, frames: int, features: int | None,
                         image: tuple[int, int, int] | None = None) -> onnx.ModelProto:
    """TorchScript runs while it is traced, so it runs in a child process with a time limit:
    a program that loops forever is stopped, and whatever torch prints stays there."""
    import subprocess
    import sys
    import tempfile

    if features is None:
        raise McuqError(f"{path} is TorchScript, whose input shape is not stored; pass calibration "
                        "data (--calib) so mcuq knows the number of input features")
    try:
        limit = float(os.environ.get("MCUQ_TORCHSCRIPT_TIMEOUT", TORCHSCRIPT_TIMEOUT_S))
    except ValueError:
        raise McuqError("MCUQ_TORCHSCRIPT_TIMEOUT must be a number of seconds") from None
    with tempfile.TemporaryDirectory(prefix="mcuq-torchscript-") as tmp:
        out = Path(tmp) / "model.onnx"
        argv = [sys.executable, "-m", "mcuq.frontend.torchscript_child", str(path), str(out),
                str(frames), str(features), ",".join(map(str, image or ()))]
        try:
            run = subprocess.run(argv, capture_output=True, text=True, timeout=limit,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise McuqError(f"TorchScript {path} did not finish tracing in {limit:g} s (a program "
                            "that loops?); convert it to ONNX where it can run as long as it "
                            "needs, or raise MCUQ_TORCHSCRIPT_TIMEOUT") from None
        if run.returncode == 3:  # the child's one-line verdict
            raise McuqError(run.stdout.strip())
        if run.returncode != 0 or not out.is_file():
            raise McuqError(f"converting TorchScript {path} to ONNX failed (the converter exited "
                            f"with status {run.returncode}); convert it to ONNX yourself")
        return onnx.load(str(out))


def torchscript_to_onnx_here(path: Path, frames: int, features: int,
                             image: tuple[int, int, int] | None = None) -> onnx.ModelProto:
    """The conversion itself, in the calling process (the child of _torchscript_to_onnx)."""
    import torch

    from mcuq.frontend.onnx_import import import_onnx

    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise McuqError(f"{path} could not be loaded as TorchScript: {_first_line(exc)}") from None
    module.eval()
    # A traced module does not record its input layout: try (1, time, features),
    # then (time, 1, features) and unbatched (time, features), keeping the first
    # whose export the importer accepts (a wrong guess fails at the RNN's layout).
    # An image model (calibration items of (C, H, W)) takes one (1, C, H, W) image.
    errors = []
    guesses = ((((1, *image), None),) if image is not None else
               (((1, frames, features), 1), ((frames, 1, features), 0), ((frames, features), 0)))
    for shape, time_axis in guesses:
        example = torch.zeros(shape)
        buffer = io.BytesIO()
        with warnings.catch_warnings(), _quiet():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(module, (example,), buffer, dynamo=False,
                                  input_names=["input"], output_names=["output"],
                                  dynamic_axes=None if time_axis is None else
                                  {"input": {time_axis: "time"}})
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
    # an importer verdict (e.g. an unsupported op, named with its node) says more than
    # an exporter's failure on a wrong guess of the input layout
    telling = next((e for e in errors if e.startswith("unsupported")), errors[0])
    raise McuqError(f"could not convert TorchScript {path} to ONNX with an input of {features} "
                    f"features: {telling}")


@contextlib.contextmanager
def _restricted_unpickling():
    """A second wall behind check_pt2_archive: while torch reads the archive, every
    torch.load it makes uses the restricted unpickler, even where torch itself asks for
    the unrestricted one (torch's TORCH_FORCE_WEIGHTS_ONLY_LOAD switch)."""
    names = ("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    saved = {n: os.environ.get(n) for n in names}
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _first_line(exc: Exception) -> str:
    """The line of a torch error that says what went wrong: TorchScript errors open with
    "The following operation failed..." and a TorchScript traceback, and end with it."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if len(lines) > 1 and ("TorchScript" in lines[0] or lines[1].startswith("Traceback")):
        return lines[-1][:400]
    return lines[0][:400]


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

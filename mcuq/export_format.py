"""The export format (model.json + weights.npz), validated on load.

`check_document` checks every field of model.json before anything is built from it;
a mismatch is one line naming the field (`model.json: tensors.t3.scale is 0, ...`).
`check_runs` then runs one frame of zeros through the simulator, so that parameters
which are well-formed but do not fit together (an edited hidden size) are caught as
one line naming the layer, not as a traceback later.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from mcuq.chip import MAX_CORES
from mcuq.errors import McuqError

DTYPES = ("int8", "float16", "float32")
ARRAY_DTYPES = ("int8", "int16", "int32", "uint8", "uint16", "float16", "float32")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SHA256 = re.compile(r"[0-9a-f]{64}")
STORAGE = {"int8": "int8", "fp16": "float16", "fp32": "float32"}  # precision -> tensor dtype


def _bad(field: str, what: str) -> McuqError:
    return McuqError(f"model.json: {field} {what}; the export is damaged or was edited, "
                     "export the model again")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_scalar(v) -> bool:
    return v is None or isinstance(v, (str, bool, int, float))


def check_document(doc, directory: Path) -> None:
    from mcuq.layouts import ISAS
    from mcuq.ops import kinds, op
    from mcuq.qgraph import FORMAT_VERSION

    if not isinstance(doc, dict):
        raise _bad("the document", "is not an object")
    if doc.get("format_version") != FORMAT_VERSION:
        raise McuqError(f"{directory} was written by another mcuq version (format "
                        f"{doc.get('format_version')!r}, this one reads {FORMAT_VERSION}); "
                        "export it again")
    for key, kind in (("name", str), ("input", str), ("output", str), ("tensors", dict),
                      ("layers", list), ("meta", dict), ("weights_sha256", str),
                      ("c_sha256", dict), ("sha256", str)):
        if not isinstance(doc.get(key), kind):
            raise _bad(key, f"is missing or not a {kind.__name__}")
    for rel, digest in doc["c_sha256"].items():
        parts = rel.split("/")
        if not (isinstance(digest, str) and SHA256.fullmatch(digest)) or \
                any(p in ("", ".", "..") for p in parts) or rel.startswith("/"):
            raise _bad(f"c_sha256[{rel!r}]", "is not a relative path with a SHA-256")
    if not IDENTIFIER.fullmatch(doc["name"]):
        raise _bad("name", f"'{doc['name']}' is not a C identifier")
    meta = doc["meta"]
    reference = meta.get("precision") == "fp32-ref"
    if "cores" in meta and not (_is_int(meta["cores"]) and 1 <= meta["cores"] <= MAX_CORES):
        raise _bad("meta.cores", f"is {meta['cores']!r}, not 1 to {MAX_CORES}")
    if "isa" in meta and meta["isa"] not in ISAS:
        raise _bad("meta.isa", f"is {meta['isa']!r}, not one of {', '.join(ISAS)}")

    for name, t in doc["tensors"].items():
        where = f"tensors.{name}"
        if not isinstance(t, dict):
            raise _bad(where, "is not an object")
        shape = t.get("shape")
        if not (isinstance(shape, list) and 1 <= len(shape) <= 4
                and all(_is_int(s) and s > 0 for s in shape)):
            raise _bad(f"{where}.shape", f"is {shape!r}, not a frame of 1 to 4 positive extents")
        if t.get("dtype") not in DTYPES:
            raise _bad(f"{where}.dtype", f"is {t.get('dtype')!r}, not one of {', '.join(DTYPES)}")
        scale, zp = t.get("scale"), t.get("zero_point")
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise _bad(f"{where}.scale", f"is {scale!r}; it must be a finite number > 0")
        if not (_is_int(zp) and -128 <= zp <= 127):
            raise _bad(f"{where}.zero_point", f"is {zp!r}, not an integer in [-128, 127]")
        if set(t) != {"shape", "dtype", "scale", "zero_point"}:
            raise _bad(where, f"has fields {sorted(t)}")
    for key in ("input", "output"):
        if doc[key] not in doc["tensors"]:
            raise _bad(key, f"names '{doc[key]}', which is no tensor")

    known = {doc["input"]}
    names = set()
    if not doc["layers"]:
        raise _bad("layers", "is empty")
    for i, layer in enumerate(doc["layers"]):
        where = f"layers[{i}]"
        if not isinstance(layer, dict):
            raise _bad(where, "is not an object")
        if set(layer) != {"kind", "name", "inputs", "outputs", "arrays", "params", "source"}:
            raise _bad(where, f"has fields {sorted(layer)}")
        kind, name, params = layer["kind"], layer["name"], layer["params"]
        if kind not in kinds():
            raise _bad(f"{where}.kind", f"is {kind!r}, which is no op of mcuq")
        if not (isinstance(name, str) and IDENTIFIER.fullmatch(name)) or name in names:
            raise _bad(f"{where}.name", f"{name!r} is not a unique C identifier")
        names.add(name)
        where = f"layer {name}"
        if not isinstance(params, dict) or not all(_is_scalar(v) for v in params.values()):
            raise _bad(f"{where} params", "are not an object of numbers and strings")
        allowed = ("fp32",) if reference else op(kind).PRECISIONS
        if params.get("precision") not in allowed:
            raise _bad(f"{where} params.precision", f"is {params.get('precision')!r}, not one "
                       f"of {', '.join(allowed) or 'none (a kind no export holds)'}")
        _check_params(where, params)
        inputs, outputs = layer["inputs"], layer["outputs"]
        if not (isinstance(inputs, list) and inputs and all(t in known for t in inputs)):
            raise _bad(f"{where} inputs", f"{inputs!r} are not tensors computed before it")
        if not (isinstance(outputs, list) and len(outputs) == 1
                and outputs[0] in doc["tensors"] and outputs[0] not in known):
            raise _bad(f"{where} outputs", f"{outputs!r} is not one new tensor")
        known.add(outputs[0])
        stored = STORAGE[params["precision"]]
        if doc["tensors"][outputs[0]].get("dtype") != stored:
            raise _bad(f"{where} params.precision", f"is {params['precision']}, but its output "
                       f"'{outputs[0]}' is {doc['tensors'][outputs[0]].get('dtype')}")
        if not isinstance(layer["arrays"], dict):
            raise _bad(f"{where} arrays", "is not an object")
        other = {"int8": "float16", "fp16": "int8"}.get(params["precision"])
        clash = [k for k, spec in layer["arrays"].items()
                 if isinstance(spec, dict) and spec.get("dtype") == other]
        if clash:
            raise _bad(f"{where} params.precision", f"is {params['precision']}, but its array "
                       f"{clash[0]} is {other}")
        for key, spec in layer["arrays"].items():
            if not (isinstance(spec, dict) and spec.get("dtype") in ARRAY_DTYPES
                    and isinstance(spec.get("shape"), list)
                    and all(_is_int(s) and s >= 0 for s in spec["shape"])):
                raise _bad(f"{where} arrays.{key}", f"is {spec!r}")
    if doc["output"] not in known:
        raise _bad("output", "is computed by no layer")


def _check_params(where: str, params: dict) -> None:
    """Quantization parameters in their domains, by name: zero points and activation
    bounds are int8 codes, shifts 0-63, multipliers non-negative int32, outlier code
    widths 2-16 bits."""
    for key, v in params.items():
        if key.endswith("zero_point") or key in ("act_min", "act_max"):
            low, high = -128, 127
        elif key == "shift" or key.endswith("_shift"):
            low, high = 0, 63
        elif key == "mult" or key.endswith("_mult"):
            low, high = 0, 2**31 - 1
        elif key == "outlier_bits":  # the packed width of int16 outlier codes
            low, high = 2, 16
        else:
            continue
        if not (_is_int(v) and low <= v <= high):
            raise _bad(f"{where} params.{key}", f"is {v!r}, not an integer in [{low}, {high}]")
    if _is_int(params.get("act_min")) and _is_int(params.get("act_max")) and \
            params["act_min"] > params["act_max"]:
        raise _bad(f"{where} params.act_min", f"({params['act_min']}) is above act_max "
                   f"({params['act_max']})")


def check_runs(qgraph, doc, directory: Path) -> None:
    """Arrays as declared, then one frame of zeros through the simulator."""
    from mcuq.simulate import Simulator

    for layer, entry in zip(qgraph.layers, doc["layers"]):
        for key, spec in entry["arrays"].items():
            a = layer.arrays[key]
            if str(a.dtype) != spec["dtype"] or list(a.shape) != spec["shape"]:
                raise McuqError(f"weights.npz: {layer.name}.{key} is {a.dtype} {list(a.shape)}, "
                                f"model.json says {spec['dtype']} {spec['shape']}; export again")
            bounds = ((0, 63) if key == "shift" or key.startswith("shift_") else
                      (0, 2**31 - 1) if key == "mult" or key.startswith("mult_") else None)
            if bounds and a.size and np.issubdtype(a.dtype, np.integer) and not (bounds[0] <= a.min() and a.max() <= bounds[1]):
                raise McuqError(f"weights.npz: {layer.name}.{key} holds values from {a.min()} to "
                                f"{a.max()}, outside [{bounds[0]}, {bounds[1]}]; export again")
    try:
        sim = Simulator(qgraph)
        x = np.zeros((1, 1) + qgraph.input_tensor.shape, np.float32)
        with np.errstate(all="ignore"):
            y = sim.run_device(sim.quantize_input(x))
    except McuqError:
        raise
    except Exception as exc:  # a parameter that does not fit the arrays: which layer?
        raise McuqError(f"{directory}: the exported graph does not run ({type(exc).__name__}: "
                        f"{exc}); the export is damaged or was edited, export again") from None
    if y.shape[2:] != qgraph.output_tensor.shape:
        raise McuqError(f"{directory}: the exported graph gives output shape "
                        f"{list(y.shape[2:])}, model.json says {list(qgraph.output_tensor.shape)}; "
                        "export again")

"""The quantization options of a run: one object from the command line to the ops.

`mcuq export` (and the evaluation commands) build a QuantOptions; the pipeline calibrates
with its activation options and hands the rest to every layer as the recipe
(`recipe()`: attributes the ops read, with per-layer values from a precision file)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcuq import fixedpoint as fx
from mcuq import outliers
from mcuq.calibrate import DEFAULT_METHOD
from mcuq.errors import McuqError
from mcuq.ops import op

# what a precision file may set per layer besides the precision
LAYER_OPTIONS = ("precision", "weight_range", "weight_outliers")


@dataclass(frozen=True)
class QuantOptions:
    precision: str = "int8"  # int8, fp16, mixed or fp32-ref (mcuq.quantize.RECIPES)
    overrides: dict | None = None  # layer name or kind -> precision, or {precision, weight_range}
    calib_method: str = DEFAULT_METHOD
    percentile: float = 99.99
    headroom_db: float = 0.0
    weight_bits: int = 8
    weight_range: str = "max"  # fixedpoint.parse_weight_range
    weight_outliers: float = 0.0  # share of each int8 row kept aside (mcuq.outliers)
    cfws: bool = False
    equalize: bool = False  # cross-layer equalization before calibration (mcuq.passes)

    def checked(self) -> "QuantOptions":
        if self.weight_bits not in fx.WEIGHT_BITS:
            raise McuqError(f"--weight-bits {self.weight_bits}: use 2 to 8")
        fx.parse_weight_range(self.weight_range)
        outliers.check_fraction(self.weight_outliers)
        for key, value in (self.overrides or {}).items():
            if isinstance(value, dict):
                unknown = set(value) - set(LAYER_OPTIONS)
                if unknown:
                    raise McuqError(f"precision file entry '{key}': unknown option(s) "
                                    f"{', '.join(sorted(unknown))}; an entry sets "
                                    f"{' and '.join(LAYER_OPTIONS)}")
                if "weight_range" in value:
                    fx.parse_weight_range(value["weight_range"])
                if "weight_outliers" in value:
                    outliers.check_fraction(value["weight_outliers"],
                                            f"precision file entry '{key}': weight_outliers")
        return self

    def check_layers(self, graph) -> None:
        """Every precision-file entry names a layer or kind of `graph`, and one that sets a
        weight range names layers with weights."""
        names = {layer.name for layer in graph.layers}
        kinds = {layer.kind for layer in graph.layers}
        for key, value in (self.overrides or {}).items():
            if key not in names and key not in kinds:
                raise McuqError(f"precision override names '{key}', which is no layer or "
                                f"layer kind of this model (layers: {', '.join(sorted(names))})")
            for option, what in (("weight_range", "a weight range"),
                                 ("weight_outliers", "weight outliers")):
                if not (isinstance(value, dict) and option in value):
                    continue
                bare = [layer.name for layer in graph.layers if key in (layer.name, layer.kind)
                        and not weight_arrays(layer)]
                if bare:
                    raise McuqError(f"precision file entry '{key}' sets {what}, but "
                                    f"layer {bare[0]} has no weights")
            if isinstance(value, dict) and value.get("weight_outliers"):
                other = [layer for layer in graph.layers if key in (layer.name, layer.kind)
                         and not op(layer.kind).OUTLIERS]
                if other:
                    raise McuqError(f"precision file entry '{key}' sets weight outliers, but "
                                    f"layer {other[0].name} ({other[0].kind}) cannot keep "
                                    "outliers aside: linear and convolution layers can")

    def precisions(self) -> dict:
        """The per-layer precision overrides (name or kind -> precision)."""
        out = {}
        for key, value in (self.overrides or {}).items():
            if isinstance(value, str):
                out[key] = value
            elif "precision" in value:
                out[key] = value["precision"]
        return out

    def recipe(self, layer) -> dict:
        """The attributes `layer` (an IR layer) is quantized with: the run's, then its
        kind's entry of the precision file, then its name's."""
        recipe = {"weight_bits": int(self.weight_bits), "cfws": bool(self.cfws),
                  "weight_range": self.weight_range,
                  "weight_outliers": float(self.weight_outliers)}
        for key in (layer.kind, layer.name):
            entry = (self.overrides or {}).get(key)
            if isinstance(entry, dict):
                for option in ("weight_range", "weight_outliers"):
                    if option in entry:
                        recipe[option] = entry[option]
        recipe["weight_outliers"] = float(recipe["weight_outliers"])
        return recipe


WEIGHT_KEYS = ("weight", "w_ih", "w_hh")  # the weight matrices a range rule applies to


def weight_arrays(layer) -> list:
    """An IR layer's weight matrices as [rows][k] (a convolution's per output channel)."""
    return [layer.weights[key].reshape(len(layer.weights[key]), -1) for key in WEIGHT_KEYS
            if key in layer.weights and layer.weights[key].ndim >= 2]


def weight_report(layer, recipe: dict) -> dict:
    """The layer's weight range rule, the share of its weights it clips and the weights'
    SQNR (dB) at its bits, as the int8 layer quantizes them, outliers kept aside included
    (a CFWS layer's coarse and fine parts each follow the rule; this measures the rule on
    the whole kernel)."""
    arrays = weight_arrays(layer)
    if not arrays:
        return {}
    bits, rule = recipe["weight_bits"], recipe["weight_range"]
    kept_aside = recipe.get("weight_outliers", 0.0) if op(layer.kind).OUTLIERS else 0.0
    clipped, noise, signal, count = 0.0, 0.0, 0.0, 0
    for w in arrays:
        share, sqnr = outliers.quality(w, bits, rule, kept_aside)
        power = float((np.asarray(w, np.float64) ** 2).sum())
        clipped += share * w.size
        count += w.size
        signal += power
        noise += 0.0 if sqnr == float("inf") else power / 10.0 ** (sqnr / 10.0)
    sqnr = float("inf") if noise == 0 else 10.0 * np.log10(max(signal, 1e-30) / noise)
    return {"weight_range": rule, "weights_clipped": round(clipped / count, 6),
            "weight_sqnr_db": round(float(sqnr), 2)}

"""Bit errors in weight memory: seeded flip patterns and flipped models (the injector of
`mcuq robustness`, mcuq.robustness).

The error model is Stutz et al.'s ("Bit Error Robustness for Energy-Efficient DNN
Accelerators"): at a low supply voltage every bit of the memory holding the weights
flips independently with probability p. What is covered are the stored weights of every
layer: int8 codes (at `--weight-bits` w < 8 only the w bits a packed store would hold,
the code sign-extended again after the flip), fp16 halves (all 16 bits: an exponent flip
can make a weight inf or NaN, as it would on the chip), both parts of a CFWS kernel, the
int16 codes of outliers kept aside (their layer's `outlier_bits` bits, what a packed store
holds: mcuq.outliers; not their positions: a flipped gap
would send the kernel to read outside its input vector, which no simulator can say) and
the constant operands of scale layers. Biases and requantization constants (int32
words) are not: a flipped high bit of an int32 bias can overflow the C kernel's int32
accumulator, which C leaves undefined, so no simulator could say what the chip computes.

A pattern is reproducible from (seed, index): it gives every stored weight bit a uniform
number u in [0, 1) (float32, from a stream of its own per array), and at rate p the bits
with u < p flip. Each bit therefore flips with probability p, independently, and the
bits flipped at a rate are a subset of those a higher rate flips with the same pattern:
a curve over rates changes by errors added, not by new draws; the same pattern on two
models of the same shape hits the same bits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from mcuq.errors import McuqError
from mcuq.ops import op
from mcuq.qgraph import QGraph

MAX_RATE = 0.5  # at 0.5 a bit is noise; above, a flip is likelier than not


@dataclass(frozen=True)
class Site:
    """One stored weight array: where it is and how many bits it holds."""
    layer: int  # index into qgraph.layers
    key: str
    bits: int  # stored bits per value
    values: int

    @property
    def total_bits(self) -> int:
        return self.bits * self.values


def sites(qgraph: QGraph) -> list[Site]:
    """The stored weight arrays of an export, in layer order."""
    bits = int(qgraph.meta.get("weight_bits", 8))
    found = []
    for i, layer in enumerate(qgraph.layers):
        for key in op(layer.kind).WEIGHTS:
            a = layer.arrays.get(key)
            if a is None or not a.size or str(a.dtype) not in ("int8", "int16", "float16"):
                continue
            if a.dtype == np.int16:  # outlier codes: the bits their layer's codes need
                stored = int(layer.params.get("outlier_bits", 16))
            else:
                stored = bits if a.dtype == np.int8 else 16
            found.append(Site(i, key, stored, int(a.size)))
    if not found:
        raise McuqError("the export stores no int8 or fp16 weights, so no weight bit can "
                        "flip; export the model with --precision int8, fp16 or mixed")
    return found


def check_rates(rates) -> list[float]:
    rates = [float(r) for r in rates]
    if not rates:
        raise McuqError("--ber needs at least one bit error rate, e.g. 1e-4,1e-3,1e-2")
    for r in rates:
        if not (math.isfinite(r) and 0 < r <= MAX_RATE):
            raise McuqError(f"bit error rate {r:g} is outside (0, {MAX_RATE}]: a rate is the "
                            "probability that a stored bit flips, e.g. 1e-3 for 0.1%")
    return sorted(set(rates))


def parse_rates(text: str) -> list[float]:
    try:
        return check_rates(part for part in text.split(",") if part.strip())
    except ValueError:
        raise McuqError(f"--ber takes comma-separated probabilities such as 1e-4,1e-3, not "
                        f"'{text}'") from None


BLOCK = 1 << 20  # bits drawn at a time: the memory a draw needs stays small


def positions(site_number: int, site: Site, seed: int, pattern: int, rate: float) -> np.ndarray:
    """The bits of a site (value index x bits + bit) that pattern `pattern` of `seed`
    flips at `rate`, ascending."""
    rng = np.random.default_rng([int(seed), int(pattern), int(site_number)])
    found = []
    for start in range(0, site.total_bits, BLOCK):
        u = rng.random(min(BLOCK, site.total_bits - start), dtype=np.float32)
        found.append(start + np.flatnonzero(u < np.float32(rate)))
    return np.concatenate(found).astype(np.int64)


def flip_array(a: np.ndarray, bits: int, positions: np.ndarray) -> np.ndarray:
    """`a` with the bits at `positions` (value index x bits + bit) flipped, as stored:
    fp16 as its 16-bit pattern, int8 and int16 codes as the low `bits` bits of their two's
    complement (what a packed store of `bits` bits holds), sign-extended again."""
    flat = a.reshape(-1)
    values, bit = np.divmod(positions, bits)
    if a.dtype == np.float16:
        masks = np.zeros(flat.size, np.uint16)
        np.bitwise_xor.at(masks, values, np.left_shift(1, bit).astype(np.uint16))
        return (flat.view(np.uint16) ^ masks).view(a.dtype).reshape(a.shape)
    masks = np.zeros(flat.size, np.int32)
    np.bitwise_xor.at(masks, values, np.left_shift(1, bit).astype(np.int32))
    codes = (flat.astype(np.int32) & ((1 << bits) - 1)) ^ masks
    codes = np.where(codes >= 1 << (bits - 1), codes - (1 << bits), codes)
    return codes.astype(a.dtype).reshape(a.shape)


def flipped(qgraph: QGraph, weight_sites: list[Site], seed: int, pattern: int, rate: float
            ) -> tuple[QGraph, int]:
    """A copy of `qgraph` with the pattern's bits flipped at `rate`, and how many flipped."""
    layers = list(qgraph.layers)
    count = 0
    for number, site in enumerate(weight_sites):
        chosen = positions(number, site, seed, pattern, rate)
        if not chosen.size:
            continue
        layer = layers[site.layer]
        arrays = dict(layer.arrays)
        arrays[site.key] = flip_array(arrays[site.key], site.bits, chosen)
        layers[site.layer] = replace(layer, arrays=arrays)
        count += int(chosen.size)
    return replace(qgraph, layers=layers, meta=dict(qgraph.meta), c_files=None), count


def flipped_bits(before: QGraph, after: QGraph, weight_sites: list[Site]) -> int:
    """Stored bits that differ between two versions of a model (the injector's check)."""
    total = 0
    for site in weight_sites:
        a, b = before.layers[site.layer].arrays[site.key], after.layers[site.layer].arrays[site.key]
        width = np.uint8 if a.dtype == np.int8 else np.uint16
        diff = (a.view(width) ^ b.view(width)) & ((1 << site.bits) - 1)
        total += int(np.unpackbits(diff.reshape(-1).view(np.uint8)).sum())
    return total

"""The fixed-point primitives: their properties, and C == NumPy on extreme inputs."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from codegen.generate import write_tables
from codegen.paths import firmware_dir
from mcuq import __version__
from mcuq import fixedpoint as fx
from mcuq import fp16
from mcuq.lower import TABLES

HERE = __import__("pathlib").Path(__file__).resolve().parent


@pytest.mark.parametrize("real", [1e-9, 3.7e-5, 0.0123, 0.5, 0.99999, 1.0, 1.5, 123.25, 2.0**20])
def test_quantize_multiplier_is_accurate(real):
    mult, shift = fx.quantize_multiplier(real)
    assert 2**30 <= mult < 2**31 and 1 <= shift <= 62
    assert abs(mult * 2.0**-shift - real) <= real * 2.0**-30


def test_tiny_multiplier_becomes_zero():
    assert fx.quantize_multiplier(1e-30) == (0, 1)
    assert fx.quantize_multiplier(0.0) == (0, 1)


def test_rounding_rule_is_half_up():
    # 2^30 * 2^-31 = 0.5 exactly: 3 * 0.5 = 1.5 -> 2, -3 * 0.5 = -1.5 -> -1
    assert fx.requant(np.array([3, -3, 1, -1]), 2**30, 31).tolist() == [2, -1, 1, 0]


def test_requant_saturates_to_int32():
    assert fx.requant(np.array([2**31 - 1]), 2**31 - 1, 1).tolist() == [2**31 - 1]


def test_tables_are_monotonic_and_bounded():
    assert np.all(np.diff(fx.SIGMOID_Q15.astype(int)) >= 0)
    assert np.all(np.diff(fx.TANH_Q15.astype(int)) >= 0)
    assert fx.SIGMOID_Q15[128] == 16384 and fx.TANH_Q15[128] == 0
    x = np.arange(-40000, 40000, 7)
    err_sig = np.abs(fx.sigmoid_q15(x) / 32768 - 1 / (1 + np.exp(-x / 4096)))
    err_tanh = np.abs(fx.tanh_q15(x) / 32768 - np.tanh(x / 4096))
    # inside the table domains (|x| < 8 and |x| < 4): interpolation error only
    assert err_sig[np.abs(x) < 8 * 4096].max() < 1e-4
    assert err_tanh[np.abs(x) < 4 * 4096].max() < 2e-4
    # beyond them the functions are flat to within their tails: 1 - sigmoid(8), 1 - tanh(4)
    assert err_sig.max() < 3.4e-4 and err_tanh.max() < 6.8e-4


@pytest.fixture(scope="module")
def c_checker(tmp_path_factory):
    build = tmp_path_factory.mktemp("fxcheck")
    write_tables(build / "mcuq_tables.c", TABLES, __version__)
    kernels = firmware_dir() / "kernels"
    exe = build / "check"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Werror", "-fsanitize=undefined",
                    "-fno-sanitize-recover=all", "-ffp-contract=off", f"-I{kernels}", "-o", str(exe),
                    str(HERE / "c" / "fixedpoint_check.c"), str(build / "mcuq_tables.c")],
                   check=True)
    return exe


def run_c(exe, lines):
    out = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout
    return [int(v) for v in out.split()]


def test_c_requant_equals_numpy(c_checker):
    rng = np.random.default_rng(0)
    acc = np.concatenate([rng.integers(-2**31, 2**31, 3000), [-2**31, 2**31 - 1, 0, 1, -1]])
    mult = rng.integers(2**30, 2**31, acc.size)
    shift = rng.integers(1, 63, acc.size)
    # every shift with the extreme operands and values that round at the half (the C code
    # takes one path above shift 32, and below it another while acc 2^(33 - shift) fits in
    # int32: the powers of two are that path's edges)
    edges = [-2**31, -2**31 + 1, -(2**20) - 1, -3, -1, 0, 1, 3, 2**20 + 1, 2**31 - 1]
    edges += [v for e in range(24, 31) for v in (2**e - 1, 2**e, -2**e, -2**e - 1)]
    grid = np.array([(a, m, s) for a in edges for m in (2**30, 2**30 + 1, 2**31 - 1)
                     for s in range(1, 63)], dtype=np.int64)
    acc, mult, shift = (np.concatenate([acc, grid[:, 0]]), np.concatenate([mult, grid[:, 1]]),
                        np.concatenate([shift, grid[:, 2]]))
    got = run_c(c_checker, [f"R {a} {m} {s}" for a, m, s in zip(acc, mult, shift)])
    assert got == fx.requant(acc, mult, shift).tolist()


def test_c_tables_equal_numpy(c_checker):
    x = np.concatenate([np.arange(-70000, 70000, 3), [-2**31, 2**31 - 1]])
    got = run_c(c_checker, [f"S {v}" for v in x] + [f"T {v}" for v in x])
    assert got == fx.sigmoid_q15(x).tolist() + fx.tanh_q15(x).tolist()


def test_c_rounding_shift_equals_numpy(c_checker):
    rng = np.random.default_rng(1)
    x = rng.integers(-2**40, 2**40, 2000)
    n = rng.integers(0, 31, x.size)
    got = run_c(c_checker, [f"D {a} {b}" for a, b in zip(x, n)])
    assert got == fx.rshift_round(x, n).tolist()


def test_accumulator_overflow_is_refused():
    from mcuq.errors import McuqError

    wide = np.full((2, 140000), 127, np.int8)  # 128 * 127 * 140000 > 2^31
    with pytest.raises(McuqError, match="accumulator could overflow"):
        fx.check_accumulator(wide, np.zeros(2, np.int64), "layer x")
    fx.check_accumulator(wide[:, :1000], np.zeros(2, np.int64), "layer x")


def half_samples(n: int, seed: int) -> np.ndarray:
    """fp16 bit patterns: random ones plus zeros, subnormals, extremes, inf and NaN."""
    rng = np.random.default_rng(seed)
    special = np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF,
                        0x7C00, 0xFC00, 0x7E00, 0x3C00, 0xBC00, 0x3800, 0x4000, 0x4C00],
                       np.uint16)
    return np.concatenate([special, rng.integers(0, 2**16, n, dtype=np.uint16)])


def test_c_fp16_arithmetic_equals_numpy(c_checker):
    a = half_samples(3000, 1)
    b = half_samples(3000, 2)[: a.size]
    got = run_c(c_checker, [f"M {x} {y}" for x, y in zip(a, b)] +
                [f"P {x} {y}" for x, y in zip(a, b)])
    ha, hb = a.view(np.float16), b.view(np.float16)
    with np.errstate(all="ignore"):
        want = np.concatenate([(ha * hb), (ha + hb)])
    got = np.array(got, np.uint16).view(np.float16)
    # NaN payloads may differ; every other result is identical bit for bit
    both_nan = np.isnan(got) & np.isnan(want)
    assert np.array_equal(got.view(np.uint16)[~both_nan], want.view(np.uint16)[~both_nan])
    assert np.array_equal(np.isnan(got), np.isnan(want))


def test_c_fp16_activations_and_conversions_equal_numpy(c_checker):
    x = half_samples(3000, 3)
    hx = x.view(np.float16)
    got = run_c(c_checker, [f"G {v}" for v in x] + [f"H {v}" for v in x])
    with np.errstate(all="ignore"):
        want = np.concatenate([fp16.sigmoid(hx), fp16.tanh(hx)]).view(np.uint16)
    assert got == want.tolist()

    rng = np.random.default_rng(4)
    for scale in (0.0123, 1.0 / 256, 3.7):
        s32 = int(np.array([scale], np.float32).view(np.uint32)[0])
        inv = int(np.array([1.0 / scale], np.float32).view(np.uint32)[0])
        q = np.arange(-128, 128)
        zp = int(rng.integers(-128, 128))
        got = run_c(c_checker, [f"I {v} {zp} {s32}" for v in q])
        assert got == fp16.from_int8(q, scale, zp).view(np.uint16).tolist()
        got = run_c(c_checker, [f"J {v} {zp} {inv}" for v in x])
        with np.errstate(all="ignore"):
            assert got == fp16.to_int8(hx, scale, zp).tolist()

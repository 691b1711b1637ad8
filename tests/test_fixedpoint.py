"""The fixed-point primitives: their properties, and C == NumPy on extreme inputs."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from codegen.generate import write_tables
from conftest import RTL_CLANG
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


def requant_cases():
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
    return (np.concatenate([acc, grid[:, 0]]), np.concatenate([mult, grid[:, 1]]),
            np.concatenate([shift, grid[:, 2]]))


def test_c_requant_equals_numpy(c_checker):
    acc, mult, shift = requant_cases()
    got = run_c(c_checker, [f"R {a} {m} {s}" for a, m, s in zip(acc, mult, shift)])
    assert got == fx.requant(acc, mult, shift).tolist()


def steps_cases():
    """Rows of every shift with accumulator bounds from 0 to 2^31 (so that shifts up to 32
    take the scaled-up form where the bound allows it and the general path where it does
    not), and accumulators at and inside the bounds."""
    rng = np.random.default_rng(2)
    shift = np.repeat(np.arange(1, 63), 60)
    mult = rng.integers(2**30, 2**31, shift.size)
    mult[::7] = 2**31 - 1
    bound = np.minimum(2.0 ** rng.uniform(0, 31, shift.size), 2**31 - 1).astype(np.int64)
    acc = np.where(np.arange(shift.size) % 3 == 0, bound, rng.integers(-bound, bound + 1))
    acc[1::6] = -bound[1::6]
    pre, post = fx.requant_steps(mult, shift, bound)
    return acc, mult, shift, pre, post


def test_requant_steps_take_the_fast_form_where_the_bound_allows():
    acc, mult, shift, pre, post = steps_cases()
    high = (acc * 2**pre.astype(np.int64) * mult) >> 32
    fast = post > 0
    assert np.all(np.abs(acc[fast] * 2**pre[fast].astype(np.int64)) < 2**31)
    # the one-multiply form is requant wherever it is taken, and stays within 2^29
    assert (fx.rshift_round(high[fast], post[fast]).tolist()
            == fx.requant(acc, mult, shift)[fast].tolist())
    assert np.abs(fx.requant(acc, mult, shift)[fast]).max() <= 2**29
    # shifts above 32 always take it; at or below 32 it needs the bound
    assert np.all(fast[shift > 32]) and np.all(post[~fast] + 32 == shift[~fast])
    assert fast[shift <= 32].any() and (~fast[shift <= 32]).any()


def mul8_cases():
    """Rows with short multipliers (fixedpoint.short_multipliers) over bounds from 2^8 to
    2^18, biases inside the bounds, every int8 zero point, and sums without the bias at
    and inside the rest of each bound: (acc, bias, mult, shift, zp, bound)."""
    rng = np.random.default_rng(4)
    n = 3000
    bound = (2.0 ** rng.uniform(8, 18, n)).astype(np.int64)
    bias = (rng.uniform(-0.3, 0.3, n) * bound).astype(np.int64)
    zp = rng.integers(-128, 128, n)
    zp[:256] = np.arange(-128, 128)
    mult, shift = fx.quantize_multipliers(2.0 ** rng.uniform(-12, 2, n))
    short_mult, short_shift = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for i in range(n):  # each row with its own zero point
        m, s = fx.short_multipliers(mult[i:i + 1], shift[i:i + 1], bound[i:i + 1], int(zp[i]))
        short_mult[i], short_shift[i] = m[0], s[0]
    rest = bound - np.abs(bias)
    acc = rng.integers(-rest, rest + 1)
    acc[::4], acc[1::4] = rest[::4], -rest[1::4]
    return acc, bias, short_mult, short_shift, zp, bound


def test_short_multipliers_fit_int32_and_keep_their_bits():
    acc, bias, mult, shift, zp, bound = mul8_cases()
    short = shift <= 31
    assert short.mean() > 0.9, short.mean()  # a few rows keep long multipliers
    assert np.all(fx.mul32_fits(mult[short], shift[short], bound[short], 0))
    for z in (-128, 127):
        fits = fx.mul32_fits(mult, shift, bound, z)
        assert np.all(fits[short & (np.abs(zp) == abs(z))])
    # every term of (acc + bias) mult + zp 2^shift + 2^(shift-1) stays in int32
    total = np.abs(acc + bias) * mult + np.abs(zp) * 2.0 ** shift + 2.0 ** (shift - 1)
    assert np.all(total[short] <= 2**31 - 1)
    # at least 11 bits, and the real multiplier within 2^-10 of the long one's
    assert np.all(mult[short] >= 1024)


def test_short_multiplier_rounds_the_long_one():
    mult, shift = fx.quantize_multipliers([0.003, 0.001, 0.7])
    m, s = fx.short_multipliers(mult, shift, np.array([100000, 100000, 1000]), -128)
    real = m * 2.0 ** -s.astype(np.float64)
    assert np.all(s <= 31)
    assert np.allclose(real, [0.003, 0.001, 0.7], rtol=2**-10)
    # near-zero weights' multiplier (a dead channel) would keep too few bits: kept long
    m, s = fx.short_multipliers(*fx.quantize_multipliers([1e-7]), np.array([100000]), -128)
    assert s[0] > 31 and m[0] == fx.quantize_multipliers([1e-7])[0][0]


def rtl_cases() -> dict:
    """The inputs and NumPy results of every primitive for tests/c/fixedpoint_rtl.c."""
    rng = np.random.default_rng(3)
    acc, mult, shift = requant_cases()
    s_acc, s_mult, s_shift, pre, post = steps_cases()
    # |x| + 2^(n-1) < 2^31, the documented domain; the first 64 at its edges
    n = rng.integers(0, 32, 4000)
    n[:64] = np.arange(64) % 32
    x = rng.integers(-(2**31) + (1 << n) // 2 + 1, 2**31 - (1 << n) // 2)
    x[:64] = (2**31 - 1 - (1 << n[:64]) // 2) * np.where(np.arange(64) % 2, 1, -1)
    a = np.concatenate([rng.integers(-32768, 32768, 2000), [-32768, 32767, -32768, 0, -1]])
    b = np.concatenate([rng.integers(-32768, 32768, 2000), [-32768, 32767, 32767, -1, -1]])
    q = np.concatenate([rng.integers(0, 32768, 3000), [0, 32767, 32767, 32767, 1]])
    qx = np.concatenate([rng.integers(-2**31, 2**31, 3000), [-2**31, -2**31, 2**31 - 1, -1, 16383]])
    cx = np.concatenate([rng.integers(-70000, 70000, 2000), [-2**31, 2**31 - 1, -129, -128, 127,
                                                              128, -32769, -32768, 32767, 32768]])
    tx = np.concatenate([np.arange(-70000, 70000, 7), [-2**31, 2**31 - 1]])
    m_acc, m_bias, m_mult, m_shift, m_zp, _ = mul8_cases()
    m_short = m_shift <= 31
    return {
        "REQUANT": {"requant_acc": acc, "requant_mult": mult, "requant_shift": shift,
                    "requant_want": fx.requant(acc, mult, shift)},
        "STEPS": {"steps_acc": s_acc, "steps_mult": s_mult, "steps_pre": pre, "steps_post": post,
                  "steps_want": fx.requant(s_acc, s_mult, s_shift)},
        "SHIFT": {"shift_x": x, "shift_n": n, "shift_want": fx.rshift_round(x, n)},
        "MUL16": {"mul16_a": a, "mul16_b": b, "mul16_want15": fx.rshift_round(a * b, 15),
                  "mul16_want8": fx.rshift_round(a * b, 8)},
        "Q15": {"q15_q": q, "q15_x": qx, "q15_want": fx.rshift_round(q * qx, 15)},
        "CLAMP": {"clamp_x": cx, "clamp_want8": np.clip(cx, -128, 127),
                  "clamp_want16": np.clip(cx, -32768, 32767)},
        "TABLE": {"table_x": tx, "table_sigmoid": fx.sigmoid_q15(tx), "table_tanh": fx.tanh_q15(tx)},
        "MUL8": {"mul8_acc": m_acc[m_short], "mul8_bias": m_bias[m_short],
                 "mul8_mult": m_mult[m_short], "mul8_shift": m_shift[m_short],
                 "mul8_zp": m_zp[m_short],
                 "mul8_want": np.clip(m_zp + fx.requant(m_acc + m_bias, m_mult, m_shift),
                                      -128, 127)[m_short]},
    }


def write_cases(path):
    lines = []
    for group, arrays in rtl_cases().items():
        sizes = {len(a) for a in arrays.values()}
        assert len(sizes) == 1
        lines.append(f"#define {group}_CASES {sizes.pop()}")
        for name, values in arrays.items():
            body = ",".join(f"{int(v)}" if v != -2**31 else "INT32_MIN" for v in values)
            lines.append(f"static const int32_t {name}[] = {{{body}}};")
    path.write_text("#include <stdint.h>\n" + "\n".join(lines) + "\n")


@pytest.mark.parametrize("target", ["host", "rtl"])
def test_c_primitives_equal_numpy_in_every_build(tmp_path, target):
    """The same checks in the portable C (host) and in the xcv build on the CV32E40P RTL,
    where rounding shifts, 16-bit multiplies and clamps are single XCV instructions."""
    from mcuq import rtl
    from mcuq.harness import run

    write_cases(tmp_path / "fixedpoint_cases.h")
    write_tables(tmp_path / "mcuq_tables.c", TABLES, __version__)
    kernels, ports = firmware_dir() / "kernels", firmware_dir() / "ports" / "rtl"
    sources = [str(HERE / "c" / "fixedpoint_rtl.c"), str(tmp_path / "mcuq_tables.c")]
    (tmp_path / "out").mkdir()
    elf = tmp_path / "out" / "check.elf"
    if target == "host":
        cmd = ["gcc", "-std=c99", "-O2", "-Wall", "-Werror", "-fsanitize=undefined",
               "-fno-sanitize-recover=all", f"-I{kernels}", f"-I{tmp_path}", "-o", str(elf)]
        cmd += sources
    else:
        picolibc = "/usr/lib/picolibc/riscv64-unknown-elf"
        libgcc = subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv32im", "-mabi=ilp32",
                                 "-print-libgcc-file-name"], capture_output=True, text=True,
                                check=True).stdout.strip()
        cmd = RTL_CLANG + ["-std=c99", "-Wall", "-Werror", "-ffreestanding", f"-I{kernels}",
                           f"-I{tmp_path}", "-nostdlib", "-fuse-ld=lld", "-T",
                           str(ports / "rtl.ld"), "-o", str(elf), str(ports / "start.S")]
        cmd += sources + [str(ports / "port.c"), f"-L{picolibc}/lib/rv32im/ilp32", "-lc", libgcc]
    subprocess.run(cmd, check=True)
    if target == "host":
        result = subprocess.run([str(elf)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout
    else:
        result = run(elf, "rtl", 600, 1)  # raises unless the program exits with 0
    assert "END 0" in result.stdout, result.stdout


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

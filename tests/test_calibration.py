"""Calibration methods on distributions whose answer is known or computed apart from
mcuq (brute-force squared error, NumPy's percentile, a plain loop of TensorRT's KL
search); histogram memory that does not grow with the data; every method end to end
(export, bit-exact C)."""
import tracemalloc

import numpy as np
import pytest
import torch

from conftest import save_model
from mcuq.calibrate import calibrate
from mcuq.export import export
from mcuq.frontend import load_model
from mcuq.ranges import BINS, METHODS, Histogram, SignedHistogram, choose_range
from mcuq.verify import verify

RNG = np.random.default_rng(12)


def histogram(x, chunks=20) -> SignedHistogram:
    h = SignedHistogram()
    for part in np.array_split(x, chunks):
        h.update(part)
    return h


def test_minmax_is_the_extremes(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(5, 3))
    path = save_model(model.eval(), torch.zeros(1, 5), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    graph = load_model(path)[1]
    data = RNG.standard_normal((40, 1, 5)).astype(np.float32)
    stats = calibrate(graph, [data[:20], data[20:]], "minmax")["tensors"][graph.input]
    assert (stats["min"], stats["max"]) == (float(data.min()), float(data.max()))


@pytest.mark.parametrize("p", [99.0, 99.9])
def test_percentile_is_numpys_within_a_bin(p):
    x = RNG.standard_normal(200_000)
    h = histogram(x)
    lo, hi = choose_range(h, "percentile", percentile=p)
    for got, values, side in ((hi, x[x > 0], h.positive), (-lo, -x[x < 0], h.negative)):
        want = np.percentile(values, p)
        assert abs(got - want) <= 2 * side.top / BINS, (got, want)


def brute_force_mse(x: np.ndarray, levels: int, candidates) -> float:
    """The threshold of least squared error, by quantizing the samples at each one."""
    errors = []
    for t in candidates:
        step = t / (levels - 1)
        q = np.minimum(np.floor(x / step + 0.5), levels - 1) * step
        errors.append(np.mean((x - q) ** 2))
    return float(candidates[int(np.argmin(errors))])


@pytest.mark.parametrize("name,x", [("half-normal", np.abs(RNG.standard_normal(300_000))),
                                    ("laplace", np.abs(RNG.laplace(size=300_000)))])
def test_mse_matches_brute_force(name, x):
    got = choose_range(histogram(x), "mse")[1]
    want = brute_force_mse(x, 256, np.linspace(0.5, x.max(), 400))
    assert abs(got - want) / want < 0.05, (name, got, want)


def tensorrt_kl_reference(counts: np.ndarray, levels: int) -> int:
    """TensorRT's entropy calibration written out plainly: the best threshold bin."""
    best, best_i = np.inf, None
    for i in range(levels, len(counts) + 1):
        p = [float(c) for c in counts[:i]]
        p[-1] += float(counts[i:].sum())
        q = [0.0] * i
        for j in range(levels):
            a, b = (j * i) // levels, ((j + 1) * i) // levels
            nonzero = [k for k in range(a, b) if p[k] > 0]
            for k in nonzero:
                q[k] = float(sum(counts[a:b])) / len(nonzero)
        ps, qs = sum(p), sum(q)
        p = [v / ps for v in p]
        q = [v / qs for v in q]
        if any(pv > 0 and qv == 0 for pv, qv in zip(p, q)):
            q = [1e-4 if (pv > 0 and qv == 0) else qv for pv, qv in zip(p, q)]
            qs = sum(q)
            q = [v / qs for v in q]
        kl = sum(pv * np.log(pv / qv) for pv, qv in zip(p, q) if pv > 0)
        if kl < best:
            best, best_i = kl, i
    return best_i


def test_kl_matches_a_plain_tensorrt_search(monkeypatch):
    """On a 160-bin histogram and 16 levels (small enough for the plain loop)."""
    from mcuq import ranges
    counts = np.histogram(np.abs(RNG.laplace(size=50_000)), bins=160)[0].astype(np.float64)
    monkeypatch.setattr(ranges, "BINS", len(counts))
    ours = int(np.argmin(ranges.kl_divergences(counts, 16))) + 16
    assert ours == tensorrt_kl_reference(counts, 16)


def test_kl_clips_an_outlier_and_kl_improved_ignores_relu_zeros():
    x = np.append(RNG.standard_normal(400_000), 200.0)
    lo, hi = choose_range(histogram(x), "kl")
    assert hi < 40 < 200 and -lo < 10  # minmax would keep 200
    relu = np.maximum(RNG.standard_normal(400_000), 0.0)
    h = histogram(relu)
    positive_only = histogram(relu[relu > 0])
    assert choose_range(h, "kl-improved") == choose_range(positive_only, "kl-improved")
    # TensorRT's search sees the zeros in bin 0 and clips much lower
    assert choose_range(h, "kl", guard=False)[1] < 0.6 * choose_range(h, "kl-improved")[1]


def test_the_guard_replaces_a_kl_threshold_that_costs_over_twice_the_least_error():
    from mcuq.ranges import guarded_range

    relu = np.maximum(RNG.standard_normal(400_000), 0.0)  # half exact zeros
    h = histogram(relu)
    raw, mse = choose_range(h, "kl", guard=False)[1], choose_range(h, "mse")[1]
    assert raw < 0.6 * mse  # TensorRT's search clips the ReLU output hard
    assert guarded_range(h, "kl") == (choose_range(h, "mse")[0], mse, True)
    # where the kl threshold is near the least error, the guard leaves it alone
    laplace = histogram(RNG.laplace(size=400_000))
    assert guarded_range(laplace, "kl")[2] is False
    assert choose_range(laplace, "kl") == choose_range(laplace, "kl", guard=False)


def test_one_signed_tensors_get_all_levels_and_no_negative_range():
    h = histogram(np.abs(RNG.standard_normal(100_000)))
    for method in METHODS[1:]:
        lo, hi = choose_range(h, method)
        assert lo == 0.0 and 0 < hi <= h.positive.max


def test_histogram_memory_does_not_grow_with_items(tmp_path):
    """The streaming state is BINS counts per side, whatever the data; the peak memory
    of calibrating 64 and 1,024 items (generated lazily) is the same to within noise."""
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    path = save_model(model.eval(), torch.zeros(1, 16), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    graph = load_model(path)[1]

    def batches(items):
        rng = np.random.default_rng(0)
        for _ in range(items // 64):
            yield rng.standard_normal((64, 1, 16)).astype(np.float32)

    peaks = {}
    for items in (64, 1024):
        tracemalloc.start()
        calibrate(graph, batches(items), "kl")
        peaks[items] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[1024] < 1.2 * peaks[64], peaks
    h = Histogram()
    for _ in range(50):
        h.update(np.abs(RNG.standard_normal(10_000)) * 10)
    assert h.counts.size == BINS and h.total == 500_000


def test_the_model_output_keeps_its_whole_range(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    path = save_model(model.eval(), torch.zeros(1, 8), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    graph = load_model(path)[1]
    data = RNG.standard_normal((2000, 1, 8)).astype(np.float32)
    data[0] *= 50  # one outlier item: a method that clips would cut it
    for method in METHODS:
        stats = calibrate(graph, [data], method)["tensors"]
        out = stats[graph.output]
        assert (out["min"], out["max"]) == (out["seen_min"], out["seen_max"]), method
    inner = calibrate(graph, [data], "percentile", percentile=99.0)["tensors"][graph.input]
    assert inner["max"] < inner["seen_max"]  # the input is clipped by the method


def test_headroom_stops_at_what_an_op_can_output(tmp_path):
    """--calib-headroom widens a Linear's range 10^(dB/20) times, but a GRU state and a
    tanh only up to +-1: values they cannot reach need no codes."""
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.fc, self.gru = torch.nn.Linear(5, 6), torch.nn.GRU(6, 4, batch_first=True)

        def forward(self, x):
            return torch.tanh(self.gru(self.fc(x))[0] * 3.0)

    path = save_model(Net().eval(), torch.zeros(1, 9, 5), "onnx_legacy", tmp_path / "m")
    graph = load_model(path)[1]
    data = RNG.standard_normal((4, 9, 5)).astype(np.float32)
    plain = calibrate(graph, [data], "minmax")["tensors"]
    wide = calibrate(graph, [data], "minmax", headroom_db=10.0)["tensors"]
    fc, gru = graph.layers[0].outputs[0], graph.layers[1].outputs[0]
    assert wide[fc]["max"] == pytest.approx(plain[fc]["max"] * 10 ** 0.5)
    for name in (gru, graph.output):
        assert plain[name]["max"] < wide[name]["max"] <= 1.0
        assert -1.0 <= wide[name]["min"] < plain[name]["min"]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_exports_bit_exact(tmp_path, method):
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 6, 3)).eval()
    path = save_model(model, torch.zeros(1, 2, 5, 6), "onnx_legacy", tmp_path / "m",
                      dynamic_time=False)
    images = RNG.standard_normal((24, 2, 5, 6)).astype(np.float32)
    np.save(tmp_path / "calib.npy", images)
    report = export(path, tmp_path / "calib.npy", tmp_path / "out", calib_method=method)
    assert report["calib_method"] == method
    summary = verify(tmp_path / "out", "host", images[:5])
    assert summary["bit_exact"], summary

"""The host harness under AddressSanitizer + UBSan (`mcuq verify --sanitize`) for three
exports that between them run every kernel: int8, fp16 and mixed, on 8 cores (and int8 on
1, the single-core path of the runtime)."""
import numpy as np
import pytest
import torch

from conftest import make_stack, random_sequences, save_model
from mcuq.export import export
from mcuq.verify import verify


class Branches(torch.nn.Module):
    """Linear, ReLU, Add, Concat, Sigmoid, Tanh in one frame-wise model."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.a, self.b = torch.nn.Linear(9, 9), torch.nn.Linear(9, 5)

    def forward(self, x):
        h = x + torch.relu(self.a(x))
        return torch.cat([torch.sigmoid(self.b(h)), torch.tanh(h)], dim=-1)


@pytest.mark.parametrize("precision", ["int8", "fp16", "mixed"])
def test_sanitized_host_build_is_clean_and_bit_exact(tmp_path, precision):
    rnn = make_stack(2, 11, 7, [("gru", 5), ("lstm", 9)], 3)
    rnn_path = save_model(rnn, torch.zeros(1, 8, 11), "onnx_legacy", tmp_path / "rnn")
    np.save(tmp_path / "seq.npy", random_sequences(3, 8, 11, seed=2))
    mlp_path = save_model(Branches().eval(), torch.zeros(1, 9), "onnx_legacy", tmp_path / "mlp",
                          dynamic_time=False)
    frames = np.random.default_rng(4).standard_normal((13, 9)).astype(np.float32)
    np.save(tmp_path / "frames.npy", frames)
    for name, path, calib, data in (("rnn", rnn_path, "seq.npy", None),
                                    ("mlp", mlp_path, "frames.npy", frames)):
        out = tmp_path / f"out_{name}"
        export(path, tmp_path / calib, out, precision=precision)
        inputs = data if data is not None else np.load(tmp_path / calib)[0]
        for cores in (1, 8) if precision == "int8" else (8,):  # the kernels are the same
            summary = verify(out, "host", inputs, cores=cores, sanitize=True)
            assert summary["sanitize"] and summary["bit_exact"], summary

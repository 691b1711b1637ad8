"""The bundled example models (TorchScript and ONNX) go through the whole path bit-exact."""
from __future__ import annotations

import numpy as np
import pytest

from mcuq.export import export
from mcuq.verify import verify


@pytest.mark.parametrize("model", ["gru_small.pt", "lstm_small.onnx"])
def test_example_verifies_on_host_and_qemu(examples_dir, tmp_path, model):
    out = tmp_path / "out"
    report = export(examples_dir / "models" / model, examples_dir / "data" / "calib_small.npy", out)
    assert report["arena_bytes"] > report["state_bytes"] > 0
    test = np.load(examples_dir / "data" / "test_small.npy")
    for target in ("host", "qemu"):
        summary = verify(out, target, test[0])
        assert summary["frames"] == test.shape[1] == 100
        assert summary["bit_exact"] and summary["mismatched_bytes"] == 0

"""fp16 NaN bits: inf - inf inside an fp16 Linear gives a NaN whose bits differ between
x86 (0xfe00) and RISC-V (0x7e00); every target and the twin store the canonical 0x7e00."""
import numpy as np
from onnx import helper

from mcuq.export import export
from mcuq.qgraph import QGraph
from mcuq.simulate import Simulator
from mcuq.verify import verify
from passtest import onnx_model


def test_nan_is_canonical_on_every_target(tmp_path):
    import onnx

    # row 0: fp16(60000 x) - fp16(60000 x) overflows to inf - inf = NaN for x >= 2
    model = onnx_model([helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc", transB=1),
                        helper.make_node("Add", ["h", "h"], ["y"], name="twice")],
                       {"w": [[60000.0, -60000.0], [1.0, 1.0], [-3.0, 0.5]], "b": [0.0, 1.0, 2.0]},
                       [1, 2])
    onnx.save(model, tmp_path / "m.onnx")
    np.save(tmp_path / "calib.npy", np.full((4, 2), 0.1, np.float32))
    export(tmp_path / "m.onnx", tmp_path / "calib.npy", tmp_path / "out", precision="fp16",
           cores=2)
    frames = np.array([[2.0, 2.0], [0.5, 0.25], [3.0, 3.0], [-2.0, -2.0]], np.float32)
    sim = Simulator(QGraph.load(tmp_path / "out"))
    y = sim.run_device(sim.quantize_input(frames[:, None]))[:, 0]
    bits = y.view(np.uint16)
    assert bits[0, 0] == 0x7E00 and bits[2, 0] == 0x7E00 and bits[3, 0] == 0x7E00
    assert not np.isnan(y[1]).any()
    for target in ("host", "qemu"):
        for cores in (1, 2):
            summary = verify(tmp_path / "out", target, frames, cores=cores)
            assert summary["bit_exact"], (target, cores, summary)

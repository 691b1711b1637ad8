"""Recurrent layers that read their sequence backwards (reverse, bidirectional) make a
sequence model: it runs layer by layer over a whole sequence (mcuq.schedule), and its C
gets the sequence API. Bit-exact on host and QEMU at 1 and 8 cores; the float import
against ONNX Runtime. Also: a final state (Y_h, h_n[-1]) as the output of a streaming
model, and a file with a batch of sequences."""
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "ops"))
from conftest import random_sequences, save_model  # noqa: E402
from mcuq.errors import McuqError  # noqa: E402
from mcuq.frontend import load_model  # noqa: E402
from mcuq.reference import FloatModel  # noqa: E402
from mcuq.verify import verify  # noqa: E402
from optest import check_onnx_rnn, check_op, onnx_rnn  # noqa: E402
from recurrent_models import One  # noqa: E402


def ort_frames(path: Path, seq: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: seq[None]})[0][0]


def test_bidirectional_gru_float_matches_onnxruntime(tmp_path):
    path = save_model(One("gru", 5, 6, seed=2, bidirectional=True).eval(),
                      torch.zeros(1, 9, 5), "onnx_legacy", tmp_path / "m")
    _, graph = load_model(path)
    assert [layer.kind for layer in graph.layers][:2] == ["gru", "gru"]
    assert [layer.attrs.get("reverse", 0) for layer in graph.layers[:2]] == [0, 1]
    seq = random_sequences(1, 9, 5, seed=4)[0]
    got = FloatModel(graph).run(seq[None])[0].reshape(9, -1)
    np.testing.assert_allclose(got, ort_frames(path, seq), rtol=0, atol=2e-5)


def test_bidirectional_gru_is_a_bit_exact_sequence_model(tmp_path):
    qgraph = check_op(tmp_path, One("gru", 7, 9, seed=3, bidirectional=True), "gru", "int8",
                      shape=(7,), time=9, exporter="onnx_legacy")
    assert qgraph.sequence and qgraph.meta["max_frames"] == 9
    header = (tmp_path / "out_int8" / "c" / "model.h").read_text()
    assert "Sequence API" in header and "#define MODEL_MAX_FRAMES 9" in header
    assert "model_run_sequence(" in header and "model_run_frame(" not in header


def test_reverse_lstm_fp16_is_a_bit_exact_sequence_model(tmp_path):
    qgraph = check_onnx_rnn(tmp_path, onnx_rnn("LSTM", 6, 5, seed=4, direction="reverse"),
                            "lstm", "fp16", 6)
    assert qgraph.sequence and qgraph.layers[0].params["reverse"] == 1


def test_a_sequence_model_refuses_a_sequence_longer_than_its_arena(tmp_path):
    model = onnx_rnn("GRU", 4, 3, seed=5, direction="reverse", linear_before_reset=1)
    onnx.save(model, tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", random_sequences(2, 6, 4, seed=1))
    from mcuq.export import export
    export(tmp_path / "m.onnx", tmp_path / "x.npy", tmp_path / "out")
    with pytest.raises(McuqError, match="takes at most 6"):
        verify(tmp_path / "out", "host", random_sequences(1, 7, 4, seed=2)[0])


def test_final_state_classifier_streams_and_its_last_frame_is_the_output(tmp_path):
    """h_n[-1] through a Linear (a sequence classifier): a streaming model whose output
    after the last frame is the model's; bit-exact, and in float ONNX Runtime's."""
    model = One("lstm", 6, 7, seed=6, final=True).eval()
    path = save_model(model, torch.zeros(1, 9, 6), "onnx_legacy", tmp_path / "m")
    _, graph = load_model(path)
    assert graph.output_final and [layer.kind for layer in graph.layers] == ["lstm", "linear"]
    seq = random_sequences(1, 9, 6, seed=7)[0]
    np.testing.assert_allclose(FloatModel(graph).run(seq[None])[0, -1], ort_frames(path, seq),
                               rtol=0, atol=2e-5)
    qgraph = check_op(tmp_path, model, "lstm", "int8", shape=(6,), time=9)
    assert qgraph.meta["output_final"] and not qgraph.sequence
    header = (tmp_path / "out_int8" / "c" / "model.h").read_text()
    assert "final state" in header and "model_run_frame(" in header


def test_final_state_of_a_reverse_direction_is_refused(tmp_path):
    path = save_model(One("gru", 5, 6, seed=1, bidirectional=True, final=True).eval(),
                      torch.zeros(1, 9, 5), "onnx_legacy", tmp_path / "m")
    with pytest.raises(McuqError, match="reverse direction ends at the first frame"):
        load_model(path)


def test_a_file_with_a_batch_of_sequences_imports_them_as_independent(tmp_path):
    """A GRU exported with a batch of 3: the batch axis is the data's, each sequence its own
    stream (the float reference against ONNX Runtime on all three)."""
    path = save_model(One("gru", 5, 6, seed=8).eval(), torch.zeros(3, 9, 5), "onnx_legacy",
                      tmp_path / "m", dynamic_time=False)
    _, graph = load_model(path)
    assert graph.input_roles == ("N", "T", "F")
    seqs = random_sequences(3, 9, 5, seed=9)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: seqs})[0]
    np.testing.assert_allclose(FloatModel(graph).run(seqs), want, rtol=0, atol=2e-5)

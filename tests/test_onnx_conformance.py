"""ONNX's own conformance cases (onnx.backend.test.case.node) as a peer test suite, for
every op type mcuq claims (mcuq.ops.onnx_types() and the layout ops): the first input stays the model input,
the others (weights, biases, states) are frozen as constants, and the model goes through
`export --precision fp32-ref` and the simulator. Each case must either give ONNX's
expected output or be refused with a one-line reason (McuqError); anything else (a
traceback, a wrong result) fails. Cases with integer inputs are not run (mcuq's float
and quantized paths take real-valued inputs). The summary of reasons is printed."""
from __future__ import annotations

import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper
from onnx.backend.test.case.node import collect_testcases

from mcuq.errors import McuqError
from mcuq.export import export
from mcuq.frontend import load_model
from mcuq.frontend.onnx_import import LAYOUT_OPS
from mcuq.ops import onnx_types
from mcuq.qgraph import QGraph
from mcuq.simulate import Simulator
from mcuq.verify import verify

# the cases that pass today: a floor, so that a change that loses one fails here
MIN_PASSING = 172


def claimed_cases():
    claimed = set(onnx_types()) | set(LAYOUT_OPS)
    return [c for c in collect_testcases(None)
            if len(c.model.graph.node) == 1 and c.model.graph.node[0].op_type in claimed]


def frozen(case) -> tuple[onnx.ModelProto, np.ndarray, np.ndarray]:
    """The case's model with every input but the first as an initializer."""
    inputs, outputs = case.data_sets[0]
    graph = case.model.graph
    names = [i.name for i in graph.input]
    inits = [numpy_helper.from_array(np.asarray(v), name)
             for name, v in zip(names[1:], inputs[1:])]
    new = helper.make_graph(list(graph.node), graph.name, [graph.input[0]],
                            list(graph.output[:1]), list(graph.initializer) + inits)
    model = helper.make_model(new, opset_imports=case.model.opset_import)
    model.ir_version = case.model.ir_version
    return model, np.asarray(inputs[0]), np.asarray(outputs[0])


def _order(roles, lead="NT1", last="F") -> list[int]:
    """Axis indices by role: the roles of `lead` in that order, then `last`."""
    return [i for group in lead + last for i, r in enumerate(roles) if r == group]


def mcuq_layout(x: np.ndarray, roles, recurrent: bool) -> np.ndarray:
    """The model input in mcuq's data layout: feature axes last, the other axes items (or
    for a recurrent model sequences: a batch of them (N), time first)."""
    features = [x.shape[i] for i, r in enumerate(roles) if r == "F"]
    moved = np.transpose(x, _order(roles))
    if not recurrent:
        return moved.reshape(-1, *features)
    batch = int(np.prod([x.shape[i] for i, r in enumerate(roles) if r == "N"]))
    return moved.reshape(batch, -1, *features)


def reference_output(model: onnx.ModelProto, x: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """ONNX Runtime's output (mcuq's float reference) where it runs the case: some cases
    store their expected output rounded to 4 decimals. It must agree with the stored one
    to that precision."""
    try:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception:  # an opset or op this onnxruntime lacks: the stored output
        return stored
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, stored, rtol=1e-3, atol=1e-4)
    return got


def source_layout(frames: np.ndarray, roles, shape) -> np.ndarray:
    """mcuq's output frames (sequences (N), then time or items, then each frame) in the
    model's output layout: those axes where its roles put them."""
    if frames.size != int(np.prod(shape)) or len(roles) != len(shape):
        return frames
    order = _order(roles, lead="NT", last="F1")
    return np.transpose(frames.reshape([shape[i] for i in order]), np.argsort(order))


def run_case(case, tmp_path) -> str:
    """'pass', or the refusal's message."""
    model, x, want = frozen(case)
    if x.dtype != np.float32:  # mcuq computes on real-valued (float) inputs only
        return f"not run: an input of type {x.dtype}"
    onnx.save(model, tmp_path / "m.onnx")
    try:
        graph = load_model(tmp_path / "m.onnx")[1]
        data = mcuq_layout(x, graph.input_roles, graph.recurrent)
        np.save(tmp_path / "x.npy", data)
        export(tmp_path / "m.onnx", tmp_path / "x.npy", tmp_path / "out", precision="fp32-ref")
    except McuqError as exc:
        return f"McuqError: {exc}"
    want = reference_output(model, x, want)
    qgraph = QGraph.load(tmp_path / "out")
    seq = data if qgraph.meta["recurrent"] else data.reshape(-1, 1, *qgraph.input_tensor.shape)
    frames = Simulator(qgraph).run(seq)
    if qgraph.meta["output_final"]:  # a final state: the output after the last frame
        frames = frames[:, -1:]
    got = source_layout(frames, graph.output_roles, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5,
                               err_msg=f"{case.name}: the output differs from ONNX's")
    return "pass"


def test_onnx_node_cases(tmp_path):
    results = {}
    for case in claimed_cases():
        folder = tmp_path / case.name
        folder.mkdir()
        try:
            results[case.name] = run_case(case, folder)
        except McuqError:
            raise
        except Exception as exc:  # a traceback or a wrong result: name the case
            pytest.fail(f"{case.name}: {type(exc).__name__}: {exc}")
    passing = [n for n, r in results.items() if r == "pass"]
    reasons = collections.Counter(r.split(":", 2)[-1].strip()[:90] for r in results.values()
                                  if r != "pass")
    print(f"\n{len(passing)} of {len(results)} ONNX node cases pass; refusals:")
    for reason, count in reasons.most_common():
        print(f"  {count:3d}  {reason}")
    assert all(r == "pass" or r.startswith(("McuqError: ", "not run: "))
               for r in results.values())
    assert len(passing) >= MIN_PASSING, passing


def _op_types() -> list[str]:
    return sorted({c.model.graph.node[0].op_type for c in claimed_cases()})


@pytest.mark.parametrize("op_type", _op_types())
def test_passing_cases_are_bit_exact_on_the_host(tmp_path, op_type):
    """Every case of the op that passes in fp32-ref exports at int8 and at fp16, and the C
    built for the host gives the simulator's bytes on every item."""
    checked = 0
    for case in [c for c in claimed_cases() if c.model.graph.node[0].op_type == op_type]:
        folder = tmp_path / case.name
        folder.mkdir()
        if run_case(case, folder) != "pass":
            continue
        data = np.load(folder / "x.npy")
        for precision in ("int8", "fp16"):
            out = folder / precision
            export(folder / "m.onnx", folder / "x.npy", out, precision=precision)
            frames = data[0] if QGraph.load(out).meta["recurrent"] else data
            summary = verify(out, "host", frames, cores=1)
            assert summary["bit_exact"] and summary["mismatched_bytes"] == 0, (case.name, precision, summary)
        checked += 1
    print(f"{op_type}: {checked} cases bit-exact at int8 and fp16")

"""The memory planner on its own, on random graphs: no two buffers alive at the same
time share a byte, state comes first, everything is aligned and inside the arena."""
import numpy as np
import pytest

from codegen.planner import ALIGN, buffer_key, lifetimes, plan_arena, pointers
from codegen.program import CBuffer, CLayer, CTensor, Program


def random_program(seed: int) -> Program:
    rng = np.random.default_rng(seed)
    tensors = {"in": CTensor("in", "int8", (int(rng.integers(1, 50)),), "vector")}
    layers = []
    for i in range(int(rng.integers(1, 25))):
        available = list(tensors)
        inputs = list(rng.choice(available, size=min(len(available), int(rng.integers(1, 4))),
                                 replace=False))
        dtype = str(rng.choice(["int8", "float16"]))
        shape = (int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 9))) \
            if rng.random() < 0.3 else (int(rng.integers(1, 300)),)
        name = f"t{i}"
        tensors[name] = CTensor(name, dtype, shape, "HWC" if len(shape) == 3 else "vector")
        state = [CBuffer(f"s{k}", "int8_t", int(rng.integers(1, 64)))
                 for k in range(int(rng.integers(0, 3)))]
        scratch = [CBuffer("scratch", "uint8_t", int(rng.integers(1, 512)))] \
            if rng.random() < 0.3 else []
        layers.append(CLayer(name=f"layer{i}", template="t", suffix="s8", kernel="k",
                             kernel_file="k.c", header="k.h", inputs=[str(t) for t in inputs],
                             output=name, state=state, scratch=scratch))
    return Program("model", "0", "src", "rv32", 1, "in", layers[-1].output, tensors, layers, {})


@pytest.mark.parametrize("seed", range(200))
def test_no_two_live_buffers_overlap(seed):
    program = random_program(seed)
    state, buffers = lifetimes(program)
    plan = plan_arena(state, buffers)
    # the model's input and output are the caller's memory
    assert program.input not in plan.offsets and program.output not in plan.offsets
    cursor = 0
    for name, size in state:  # state first, in order, aligned
        assert plan.offsets[name] == cursor
        cursor += -(-size // ALIGN) * ALIGN
    assert plan.state_bytes == cursor
    for b in buffers:
        assert b.offset % ALIGN == 0 and b.offset >= plan.state_bytes
        assert b.offset + b.bytes <= plan.bytes
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.last < b.first or b.last < a.first:
                continue  # never alive together: may share
            assert a.offset + a.bytes <= b.offset or b.offset + b.bytes <= a.offset, (a, b)
    # every layer's inputs, output and scratch are alive while it runs
    for index, layer in enumerate(program.layers):
        for t in layer.inputs + [layer.output]:
            for b in buffers:
                if b.name == t:
                    assert b.first <= index <= b.last
    exprs = pointers(program, plan)
    for layer in program.layers:
        assert layer.output in exprs and all(t in exprs for t in layer.inputs)
        for s in layer.state + layer.scratch:
            assert f"model_arena + {plan.offsets[buffer_key(layer.name, s.name)]})" in \
                exprs[buffer_key(layer.name, s.name)]


def test_lifetimes_of_a_chain():
    program = random_program(0)
    program.layers = program.layers[:1]
    _, buffers = lifetimes(program)
    assert all(b.first == b.last == 0 for b in buffers)

"""Transpose: the per-frame axes permuted (a TensorFlow model's NHWC input, an H/W swap
between convolutions) or regrouped by a Reshape (a vector into an image, an image into
other channels), int8 and fp16 bit-exact on host and QEMU at 1 and 8 cores; the strided
walk of the C kernel equals the NumPy reorder for every permutation of small frames; a
reshape across frames is refused with that reason; a stateless model whose layers mix
its input's leading axes takes the whole input as one frame."""
import itertools

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper

from mcuq.errors import McuqError
from mcuq.frontend import import_onnx
from mcuq.ops.transpose import apply, walk
from mcuq.qgraph import to_c_order
from optest import check_op


class NHWCInput(torch.nn.Module):
    """A model that takes (1, H, W, C), as one converted from TensorFlow does."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.conv(x.permute(0, 3, 1, 2))


class SwapHW(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Conv2d(3, 5, 3), torch.nn.Conv2d(5, 2, (1, 3))

    def forward(self, x):
        return self.b(torch.relu(self.a(x)).transpose(2, 3))


class VectorToImage(torch.nn.Module):
    """A decoder's start: a Linear's features regrouped into an image."""
    def __init__(self):
        super().__init__()
        self.fc, self.conv = torch.nn.Linear(11, 3 * 4 * 5), torch.nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(self.fc(x).reshape(1, 3, 4, 5))


class RegroupChannels(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 6, 1)

    def forward(self, x):
        return torch.tanh(self.conv(x).reshape(1, 3, 10, 7))


MODELS = {"nhwc_input": (NHWCInput, (5, 6, 3), "onnx_legacy", ["transpose", "conv2d"]),
          "swap_hw": (SwapHW, (3, 7, 6), "onnx_dynamo", ["conv2d", "transpose", "conv2d"]),
          "vector_to_image": (VectorToImage, (11,), "torch_export", ["linear", "transpose", "conv2d"]),
          "regroup_channels": (RegroupChannels, (4, 5, 7), "onnx_legacy", ["conv2d", "transpose", "tanh"])}


# the fp16 kernel is the int8 one on two-byte values: fp16 on two of the models
CASES = [(name, "int8") for name in sorted(MODELS)] + [("nhwc_input", "fp16"), ("vector_to_image", "fp16")]


@pytest.mark.parametrize("name,precision", CASES)
def test_transpose(tmp_path, name, precision):
    make, shape, exporter, kinds = MODELS[name]
    torch.manual_seed(1)
    qgraph = check_op(tmp_path, make(), "transpose", precision, shape=shape, items=4, exporter=exporter)
    assert [q.kind for q in qgraph.layers] == kinds


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3), (7,), (1, 3, 4), (5, 1, 2)])
def test_the_strided_walk_is_the_reorder(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, *shape))
    targets = [(p, tuple(shape[i] for i in p)) for p in itertools.permutations(range(len(shape)))]
    targets.append((tuple(range(len(shape))), (int(np.prod(shape)),)))
    if len(shape) == 3:
        targets.append(((2, 0, 1), (shape[2], shape[0] * shape[1], 1)))
    for perm, out in targets:
        loops = walk(shape, perm, out)
        src = [sum(i * s for i, (_, s) in zip(digits, loops))
               for digits in itertools.product(*[range(e) for e, _ in loops])]
        np.testing.assert_array_equal(to_c_order(x, shape).reshape(-1)[src],
                                      to_c_order(apply(x, perm, out), out).reshape(-1))


def test_a_reshape_across_frames_is_refused():
    """[2, 3, 4] is 2 x 3 items of 4 features; the reshape moves values between them, and
    taken as one frame the (4, 6) result is no vector for the MatMul: the first reading's
    reason is the one given."""
    shape = numpy_helper.from_array(np.array([4, 6], np.int64), "s")
    w = numpy_helper.from_array(np.ones((6, 5), np.float32), "w")
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["r"], name="r"),
                               helper.make_node("MatMul", ["r", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3, 4])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [shape, w])
    with pytest.raises(McuqError, match=r"node 'r' \(Reshape\) reshapes \[2, 3, 4\] to \[4, 6\], "
                                        r"which moves values between frames"):
        import_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_a_stateless_model_that_mixes_its_leading_axes_is_one_frame(tmp_path, precision):
    """Transpose (2, 0, 1) of a (5, 3, 4) input, a Reshape to (4, 15), then Tanh: the
    leading axes cannot be items, so the (5, 3, 4) input is one frame (an image of 5
    channels in C), and the output a (4, 15) frame."""
    from optest import export_and_verify, frame_data
    shape = numpy_helper.from_array(np.array([4, 15], np.int64), "s")
    graph = helper.make_graph([helper.make_node("Transpose", ["x"], ["t"], perm=[2, 0, 1]),
                               helper.make_node("Reshape", ["t", "s"], ["r"]),
                               helper.make_node("Tanh", ["r"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [5, 3, 4])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [4, 15])], [shape])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    data = frame_data(5, (5, 3, 4), 2)
    qgraph = export_and_verify(tmp_path, tmp_path / "m.onnx", data, data, "transpose", precision)
    assert qgraph.input_tensor.shape == (5, 3, 4) and qgraph.output_tensor.shape == (4, 15)
    assert [q.kind for q in qgraph.layers] == ["transpose", "transpose", "tanh"]

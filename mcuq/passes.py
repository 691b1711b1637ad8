"""Graph passes: rewrites of the float IR between import and calibration.

Each pass is a small function Graph -> Graph that keeps the float outputs (tests
check each against ONNX Runtime on the original model). `run_passes` runs PIPELINE
in order, records the names in `graph.passes` (and so in the export's model.json),
then names the layers <kind><index> in graph order.

What a pass may do to an op is declared by the op (mcuq.ops): a layer kind that
defines `fold_affine(layer, scale, shift)` absorbs a per-channel affine map after
it (a BatchNorm), one that defines `fuse_clip(layer, lo, hi)` absorbs a ReLU or a Clip, one
that defines `fold_pad(layer, border)` absorbs a zero Pad before it.
"""
from __future__ import annotations

import numpy as np

from mcuq.errors import McuqError
from mcuq.ir import Graph, Layer, Tensor
from mcuq.ops import _conv, op


def _rewire(graph: Graph, old: str, new: str) -> None:
    """Every reader of tensor `old` reads `new` instead."""
    for layer in graph.layers:
        layer.inputs = [new if t == old else t for t in layer.inputs]
    if graph.output == old:
        graph.output = new


def _only_reader(graph: Graph, tensor: str, layer: Layer) -> bool:
    return graph.consumers(tensor) == [layer] and tensor != graph.output


def _absorb(graph: Graph, first: Layer, second: Layer) -> None:
    """`first` now also does `second`'s work: it writes second's output."""
    del graph.tensors[first.outputs[0]]
    first.outputs = list(second.outputs)
    first.source += ", " + second.source
    graph.layers.remove(second)


def remove_identities(graph: Graph) -> Graph:
    """Identity and inference-time Dropout: their readers read their input. A model that
    is nothing but identities (or a change of layout) becomes one copy of its input, so
    that it still has an output of its own."""
    last = None
    for layer in [lay for lay in graph.layers if lay.kind == "identity"]:
        graph.layers.remove(layer)
        _rewire(graph, layer.outputs[0], layer.inputs[0])
        del graph.tensors[layer.outputs[0]]
        last = layer
    if graph.output == graph.input:
        shape = graph.shape(graph.input)
        copy = Layer(kind="transpose", name="copy", inputs=[graph.input], outputs=["copy"],
                     attrs=op("transpose").attrs_of(range(len(shape)), shape),
                     source=last.source if last is not None else "")
        graph.tensors["copy"] = Tensor(tuple(shape))
        graph.layers.append(copy)
        graph.output = "copy"
    return graph


def fold_batchnorm(graph: Graph) -> Graph:
    """A BatchNorm (or a Mul, Div, Add, Sub by a scalar or per-channel constant) whose
    input comes only from a layer that declares fold_affine is folded into that layer's
    weights (y' = scale y + shift per output channel); a scalar one that stays becomes a
    pointwise layer."""
    for bn in [lay for lay in graph.layers if lay.kind == "batchnorm"]:
        before = graph.producer(bn.inputs[0])
        if (before is None or not hasattr(op(before.kind), "fold_affine")
                or not _only_reader(graph, bn.inputs[0], bn)
                or not op(before.kind).fold_affine(before, bn.weights["scale"],
                                                   bn.weights["shift"])):
            if "pointwise" in bn.attrs:  # a scalar Mul/Div/Add/Sub: an element-wise layer
                bn.kind, bn.attrs, bn.weights = "pointwise", dict(bn.attrs["pointwise"]), {}
            continue  # else a layer of its own after reparameterize (batchnorm_layers)
        _absorb(graph, before, bn)
    return graph


def _branch(graph: Graph, tensor: str, add: Layer):
    """What an Add input computes from some image X: (X, what, layers that go with the
    merge, kind), where `what` is a convolution's (weight, bias, stride) and kind its kind
    (conv2d or depthwise_conv2d), or for X itself or a BatchNorm of X the per-channel
    (scale, shift) and kind "identity"; None when it is none of these."""
    layer = graph.producer(tensor)
    if layer is not None and _only_reader(graph, tensor, add):
        if layer.kind in ("conv2d", "depthwise_conv2d"):
            kernel = op(layer.kind).branch_kernel(layer)
            return None if kernel is None else (layer.inputs[0], kernel, [layer], layer.kind)
        if layer.kind == "batchnorm" and len(graph.shape(layer.inputs[0])) == 3:
            return (layer.inputs[0], (layer.weights["scale"], layer.weights["shift"]), [layer],
                    "identity")
    if len(graph.shape(tensor)) == 3:  # the identity itself
        channels = graph.shape(tensor)[0]
        return tensor, (np.ones(channels), np.zeros(channels)), [], "identity"
    return None


def reparameterize(graph: Graph) -> Graph:
    """RepVGG and MobileOne re-parameterization: an Add of convolutions over one image X
    (square odd kernels padded to keep the size, one stride), optionally with X itself or
    a BatchNorm of X, becomes one convolution whose kernel is the sum of the branches'
    kernels, each centred in the largest (after fold_batchnorm has put every branch's
    BatchNorm into its convolution). The branches are all dense convolutions (RepVGG,
    MobileOne's 1x1 stage) or all depthwise ones (MobileOne's depthwise stage); the
    identity joins either. k branches are k - 1 Adds, merged one at a time."""
    merged = True
    while merged:
        merged = False
        for add in [lay for lay in graph.layers if lay.kind == "add" and len(lay.inputs) == 2]:
            if add.inputs[0] == add.inputs[1]:
                continue  # y + y: one layer, not two branches
            branches = [_branch(graph, t, add) for t in add.inputs]
            if None in branches or branches[0][0] != branches[1][0]:
                continue
            kinds = {b[3] for b in branches} - {"identity"}
            if len(kinds) != 1:
                continue  # two identities, or a dense and a depthwise convolution
            kind = kinds.pop()
            conv = op(kind)
            kernels = [conv.identity_kernel(*b[1]) if b[3] == "identity" else b[1]
                       for b in branches]
            if len({k[2] for k in kernels}) != 1 or len({k[0].shape[:-2] for k in kernels}) != 1:
                continue  # different strides or channel counts: not one convolution
            weight, bias, window = conv.merged_kernel(kernels)  # window: attrs
            for layer in branches[0][2] + branches[1][2]:
                graph.layers.remove(layer)
                del graph.tensors[layer.outputs[0]]
            sources = [layer.source for b in branches for layer in b[2]] + [add.source]
            add.kind, add.inputs = kind, [branches[0][0]]
            add.weights, add.attrs = {"weight": weight, "bias": bias}, window
            add.source = ", ".join(sources)
            merged = True
            break
    return graph


def _clamp_of(layer: Layer):
    """(lo, hi) of a ReLU or a Clip (ReLU6, Hardtanh) layer, else None."""
    if layer.kind == "relu":
        return 0.0, None
    if layer.kind == "pointwise" and layer.attrs["function"] == "clip":
        return layer.attrs["a"], layer.attrs["b"]
    return None


def fuse_activations(graph: Graph) -> Graph:
    """A ReLU or Clip whose input comes only from a layer that declares fuse_clip runs
    inside that layer's kernel (one kernel, one requantization, and the int8 output range
    is the clamp's: a ReLU6 after a convolution spends its 256 codes on [0, 6])."""
    for act in [lay for lay in graph.layers if _clamp_of(lay) is not None]:
        before = graph.producer(act.inputs[0])
        if (before is not None and hasattr(op(before.kind), "fuse_clip")
                and _only_reader(graph, act.inputs[0], act)
                and op(before.kind).fuse_clip(before, *_clamp_of(act))):
            _absorb(graph, before, act)
    return graph


def remove_dead_layers(graph: Graph) -> Graph:
    """Layers the output does not depend on (and the tensors only they wrote)."""
    needed = {graph.output}
    live = []
    for layer in reversed(graph.layers):
        if needed & set(layer.outputs):
            live.append(layer)
            needed.update(layer.inputs)
    graph.layers = list(reversed(live))
    used = {graph.input, graph.output} | {t for lay in graph.layers for t in lay.inputs + lay.outputs}
    graph.tensors = {k: v for k, v in graph.tensors.items() if k in used}
    return graph


def fold_pad(graph: Graph) -> Graph:
    """A zero border (Pad) whose image only a convolution reads becomes part of that
    convolution's padding (whose taps are zeros too): one layer instead of two, and no
    padded copy of the image in memory."""
    pad_op = op("pad")
    for pad in [lay for lay in graph.layers if lay.kind == "pad"]:
        readers = graph.consumers(pad.outputs[0])
        if (pad.attrs["value"] == 0.0 and pad_op.strides(pad.attrs) == (1, 1)
                and len(readers) == 1 and pad.outputs[0] != graph.output
                and hasattr(op(readers[0].kind), "fold_pad")
                and op(readers[0].kind).fold_pad(readers[0], pad.attrs)):
            graph.layers.remove(pad)
            del graph.tensors[pad.outputs[0]]
            readers[0].inputs = [pad.inputs[0] if t == pad.outputs[0] else t
                                 for t in readers[0].inputs]
            readers[0].source = pad.source + ", " + readers[0].source
    return graph


def batchnorm_layers(graph: Graph) -> Graph:
    """A per-channel BatchNorm or scale that folded into nothing (an input normalisation,
    a BatchNorm after an Add) runs as a 1x1 depthwise convolution, a vector's features
    the channels of a 1x1 image; the ones right after it then fold into it. After
    reparameterize, which reads a BatchNorm of an image as a branch. Frames that are
    neither vectors nor images keep theirs, for the quantizer to refuse by name."""
    while True:
        bn = next((lay for lay in graph.layers if lay.kind == "batchnorm"
                   and len(graph.shape(lay.inputs[0])) in (1, 3)), None)
        if bn is None:
            return graph
        scale, shift = bn.weights["scale"], bn.weights["shift"]
        bn.kind, bn.attrs = "depthwise_conv2d", _conv.flat(
            {"kernel": [1, 1], "stride": [1, 1], "pads": [0, 0, 0, 0]})
        bn.weights = {"weight": scale.reshape(-1, 1, 1), "bias": shift}
        fold_batchnorm(graph)


EQUALIZE_MIN = 1e-3  # s_i is kept within [EQUALIZE_MIN, 1 / EQUALIZE_MIN]
EQUALIZE_ROUNDS = 20  # a layer in two pairs (B of one, A of the next): repeat to converge
EQUALIZE_TOLERANCE = 1e-4  # until every s_i is within this of 1


def equalize(graph: Graph) -> Graph:
    """Cross-layer equalization (Nagel et al. 2019, data-free quantization), run by
    `--equalize` after the pipeline: for a layer A that declares `scale_out_channels`
    (Linear, Conv; after it at most a ReLU) read only by a layer B that declares
    `scale_in_channels` (Linear, Conv, a GRU/LSTM/RNN's input projection), channel i of
    A's output is divided by s_i and B's weights that read it multiplied by s_i, with
    s_i = sqrt(r_A[i] / r_B[i]) from the channel's weight ranges in A (its output row)
    and B (its input column): both become sqrt(r_A r_B), and A's output channel, which
    int8 holds at one scale with the others, no longer dwarfs them. A layer in two pairs
    is balanced again after its second pair moved it, round after round, until no s_i
    moves by more than EQUALIZE_TOLERANCE (at most EQUALIZE_ROUNDS). The float model is
    unchanged."""
    for _ in range(EQUALIZE_ROUNDS):
        if _equalize_round(graph) <= EQUALIZE_TOLERANCE:
            break
    return graph


def _equalize_round(graph: Graph) -> float:
    """One pass over the pairs; returns the largest |log s_i| applied."""
    moved = 0.0
    for a in graph.layers:
        readers = graph.consumers(a.outputs[0])
        if not hasattr(op(a.kind), "scale_out_channels") or len(readers) != 1 or \
                a.outputs[0] == graph.output:
            continue
        b = readers[0]
        if not hasattr(op(b.kind), "scale_in_channels") or b.inputs != [a.outputs[0]]:
            continue
        r_a = np.abs(op(a.kind).out_channels(a)).max(axis=1).astype(np.float64)
        r_b = np.abs(op(b.kind).in_channels(b)).max(axis=1).astype(np.float64)
        if r_a.shape != r_b.shape:
            continue  # B reads A's channels in another grouping (a flattened image)
        s = np.ones_like(r_a)
        live = (r_a > 0) & (r_b > 0)
        s[live] = np.clip(np.sqrt(r_a[live] / r_b[live]), EQUALIZE_MIN, 1 / EQUALIZE_MIN)
        if op(a.kind).scale_out_channels(a, s):
            op(b.kind).scale_in_channels(b, s)
            moved = max(moved, float(np.max(np.abs(np.log(s)))))
    return moved


PIPELINE = (remove_identities, fold_batchnorm, reparameterize, batchnorm_layers, fold_pad,
            fuse_activations, remove_dead_layers)


def name_layers(graph: Graph) -> Graph:
    """<kind><index> in graph order: the names users see (reports, overrides, C symbols)."""
    counts: dict[str, int] = {}
    for layer in graph.layers:
        layer.name = f"{layer.kind}{counts.get(layer.kind, 0)}"
        counts[layer.kind] = counts.get(layer.kind, 0) + 1
    return graph


def run_passes(graph: Graph, passes=PIPELINE) -> Graph:
    for graph_pass in passes:
        graph = graph_pass(graph)
        graph.passes.append(graph_pass.__name__)
    return name_layers(graph)


def check_deployable(graph: Graph) -> None:
    """Every layer left must have device kernels (graph-only kinds were to be removed)."""
    for layer in graph.layers:
        if not op(layer.kind).PRECISIONS:
            raise McuqError(f"layer {layer.name} ({layer.kind}, from node {layer.source}) could "
                            "not be folded into the layer before it, and has no kernel of its "
                            "own; put it right after a Linear or convolution whose output nothing "
                            "else reads")


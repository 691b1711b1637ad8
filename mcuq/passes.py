"""Graph passes: rewrites of the float IR between import and calibration.

Each pass is a small function Graph -> Graph that keeps the float outputs (tests
check each against ONNX Runtime on the original model). `run_passes` runs PIPELINE
in order, records the names in `graph.passes` (and so in the export's model.json),
then names the layers <kind><index> in graph order.

What a pass may do to an op is declared by the op (mcuq.ops): a layer kind that
defines `fold_affine(layer, scale, shift)` absorbs a per-channel affine map after
it (a BatchNorm), one that defines `fuse_relu(layer)` absorbs a ReLU.
"""
from __future__ import annotations

from mcuq.errors import McuqError
from mcuq.ir import Graph, Layer
from mcuq.ops import op


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
    """Identity and inference-time Dropout: their readers read their input."""
    for layer in [lay for lay in graph.layers if lay.kind == "identity"]:
        graph.layers.remove(layer)
        _rewire(graph, layer.outputs[0], layer.inputs[0])
        del graph.tensors[layer.outputs[0]]
    if graph.output == graph.input:
        raise McuqError("the model output is its input: nothing to compute")
    return graph


def fold_batchnorm(graph: Graph) -> Graph:
    """A BatchNorm whose input comes only from a layer that declares fold_affine is
    folded into that layer's weights (y' = scale y + shift per output channel)."""
    for bn in [lay for lay in graph.layers if lay.kind == "batchnorm"]:
        before = graph.producer(bn.inputs[0])
        if (before is None or not hasattr(op(before.kind), "fold_affine")
                or not _only_reader(graph, bn.inputs[0], bn)
                or not op(before.kind).fold_affine(before, bn.weights["scale"],
                                                   bn.weights["shift"])):
            continue  # left for the quantizer to refuse by name
        _absorb(graph, before, bn)
    return graph


def fuse_linear_relu(graph: Graph) -> Graph:
    """A ReLU whose input comes only from a layer that declares fuse_relu runs inside
    that layer's kernel (one kernel, one requantization)."""
    for relu in [lay for lay in graph.layers if lay.kind == "relu"]:
        before = graph.producer(relu.inputs[0])
        if (before is not None and hasattr(op(before.kind), "fuse_relu")
                and _only_reader(graph, relu.inputs[0], relu)
                and op(before.kind).fuse_relu(before)):
            _absorb(graph, before, relu)
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


PIPELINE = (remove_identities, fold_batchnorm, fuse_linear_relu, remove_dead_layers)


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
                            "own; put it right after a Linear whose output nothing else reads")


"""ONNX -> mcuq per-frame IR.

Real exporters wrap recurrent layers in layout plumbing: Transposes between
batch-first and time-first, Squeeze/Reshape of the direction axis, and shape
arithmetic (Shape -> Gather -> Concat -> Expand) that builds zero initial
states. The importer walks the graph once and gives every value one of three
meanings:

  * a constant (numpy array): initializers, Constant nodes and anything
    computed only from constants, which is folded with ONNX's reference
    evaluator, so shape arithmetic never needs a rule of its own;
  * an activation (`Act`): per frame a vector of features; its source shape
    is tracked with a role per axis (T time, F features, 1 singleton), so
    Transpose/Squeeze/Reshape only move roles around;
  * unusable: an output mcuq cannot stream (e.g. an RNN's final state).

Compute nodes on activations become IR layers. Anything else is collected and
reported with the node that uses it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from mcuq.errors import McuqError
from mcuq.ir import Graph, Layer

SUPPORTED_OPS = (
    "MatMul, Gemm, Add (bias), Relu, Sigmoid, Tanh, GRU, LSTM, and layout/shape ops "
    "(Transpose, Squeeze, Unsqueeze, Reshape, Flatten, Identity, constant shape arithmetic)"
)
# probe lengths for a dynamic time axis: primes unlikely to equal a feature size
_PROBE_T = (29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


@dataclass(frozen=True)
class Act:
    tensor: str  # IR tensor with this value's per-frame vector
    roles: tuple[str, ...]
    shape: tuple[int, ...]

    @property
    def features(self) -> int:
        return self.shape[self.roles.index("F")]


@dataclass(frozen=True)
class Unusable:
    why: str


class _Importer:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.graph = model.graph
        self.values: dict[str, object] = {}
        self.layers: list[Layer] = []
        self.sizes: dict[str, int] = {}
        self.unsupported: list[str] = []
        self.kind_count: dict[str, int] = {}

    # -- helpers -----------------------------------------------------------
    def new_tensor(self, size: int) -> str:
        name = f"t{len(self.sizes)}"
        self.sizes[name] = int(size)
        return name

    def add_layer(self, kind, node, inputs, out_size, weights=None, attrs=None) -> str:
        out = self.new_tensor(out_size)
        index = self.kind_count.get(kind, 0)
        self.kind_count[kind] = index + 1
        self.layers.append(
            Layer(kind=kind, name=f"{kind}{index}", inputs=inputs, outputs=[out],
                  weights=weights or {}, attrs=attrs or {}, source=_node_label(node))
        )
        return out

    def const(self, name: str, node) -> np.ndarray:
        value = self.values.get(name)
        if not isinstance(value, np.ndarray):
            raise McuqError(f"node {_node_label(node)} ({node.op_type}): input '{name}' must be a "
                            "constant (weights computed at run time are not supported)")
        return value

    def act(self, name: str, node) -> Act:
        value = self.values.get(name)
        if isinstance(value, Act):
            return value
        raise McuqError(f"node {_node_label(node)} ({node.op_type}): input '{name}' is not an "
                        "activation of the model input")

    # -- the walk ----------------------------------------------------------
    def run(self, time_steps: int | None) -> Graph:
        for init in self.graph.initializer:
            self.values[init.name] = numpy_helper.to_array(init)
        inputs = [i for i in self.graph.input if i.name not in self.values]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs) or "none"
            raise McuqError(f"mcuq needs a model with exactly one input; this one has {len(inputs)} "
                            f"({names})")
        model_input = inputs[0]
        roles, shape = self.input_layout(model_input, time_steps)
        in_tensor = self.new_tensor(shape[roles.index("F")])
        self.values[model_input.name] = Act(in_tensor, roles, shape)

        for node in self.graph.node:
            self.visit(node)

        if self.unsupported:
            raise McuqError("unsupported: " + "; ".join(self.unsupported)
                            + f". mcuq supports {SUPPORTED_OPS}")
        if len(self.graph.output) != 1:
            names = ", ".join(o.name for o in self.graph.output)
            raise McuqError(f"mcuq needs a model with exactly one output; this one has "
                            f"{len(self.graph.output)} ({names}); return only the network output")
        out = self.values.get(self.graph.output[0].name)
        if isinstance(out, Unusable):
            raise McuqError(f"the model output {out.why}")
        if not isinstance(out, Act) or not self.layers:
            raise McuqError("the model output does not depend on its input through any layer")
        if out.tensor == in_tensor:
            raise McuqError("the model output is its input: nothing to compute")
        return Graph(input=in_tensor, output=out.tensor, sizes=self.sizes, layers=self.layers,
                     input_roles=roles, output_roles=out.roles,
                     source_input_name=model_input.name)

    def input_layout(self, value_info, time_steps):
        dims = []
        for d in value_info.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else
                        (d.dim_param or "?"))
        if not dims or isinstance(dims[-1], str):
            raise McuqError(f"model input '{value_info.name}' needs a fixed feature size on its "
                            f"last axis; its shape is {dims}")
        n = len(dims)
        if n == 1:
            roles = ("F",)
        elif n == 2:
            # (batch, features) when the leading axis is a fixed 1, else (time, features)
            roles = ("1", "F") if dims[0] == 1 else ("T", "F")
        elif n == 3:
            roles = _guess_time_axis(dims)
        else:
            raise McuqError(f"model input '{value_info.name}' has shape {dims}; mcuq takes "
                            "(features), (batch, features) or a 3-D sequence")
        shape = []
        for role, d in zip(roles, dims):
            if role == "1":
                shape.append(1)
            elif role == "F":
                shape.append(d)
            else:
                shape.append(d if isinstance(d, int) else time_steps or self.probe_time_steps())
        return tuple(roles), tuple(shape)

    def probe_time_steps(self) -> int:
        used = {int(s) for v in self.values.values() if isinstance(v, np.ndarray) for s in v.shape}
        return next(t for t in _PROBE_T if t not in used)

    def visit(self, node):
        ins = [self.values.get(i) if i else None for i in node.input]
        present = [v for i, v in zip(node.input, ins) if i]
        if any(v is None for v in present) and not any(isinstance(v, Unusable) for v in present):
            return  # downstream of an unsupported node: already reported
        bad = next((v for v in present if isinstance(v, Unusable)), None)
        if bad is not None:
            self.unsupported.append(f"node {_node_label(node)} ({node.op_type}) uses an output "
                                    f"that {bad.why}")
            return
        if node.op_type == "Shape" and isinstance(ins[0], Act):
            self.set_outputs(node, [self.fold_shape(node, ins[0])])
            return
        if all(isinstance(v, np.ndarray) for v in present):
            self.set_outputs(node, self.fold(node))
            return
        handler = getattr(self, "op_" + node.op_type, None)
        if handler is None:
            self.unsupported.append(f"op {node.op_type} (node {_node_label(node)})")
            return
        self.set_outputs(node, handler(node))

    def set_outputs(self, node, values):
        for name, value in zip(node.output, values):
            if name:
                self.values[name] = value

    def fold(self, node):
        feeds = {name: self.values[name] for name in node.input if name}
        try:
            return ReferenceEvaluator(node).run(None, feeds)
        except Exception as exc:  # the reference evaluator's own error types vary
            raise McuqError(f"cannot evaluate constant node {_node_label(node)} "
                            f"({node.op_type}): {exc}") from None

    def fold_shape(self, node, x: Act):
        attrs = _attrs(node)
        shape = np.array(x.shape, dtype=np.int64)
        start, end = attrs.get("start", 0), attrs.get("end", len(shape))
        return shape[start:end]

    # -- layout ops: move roles ---------------------------------------------
    def op_Identity(self, node):
        return [self.act(node.input[0], node)]

    op_Dropout = op_Identity

    def op_Transpose(self, node):
        x = self.act(node.input[0], node)
        perm = _attrs(node).get("perm", list(reversed(range(len(x.shape)))))
        return [Act(x.tensor, tuple(x.roles[p] for p in perm), tuple(x.shape[p] for p in perm))]

    def op_Squeeze(self, node):
        x = self.act(node.input[0], node)
        axes = _axes(self, node, len(x.shape))
        if axes is None:
            axes = [i for i, s in enumerate(x.shape) if s == 1]
        for a in axes:
            if x.shape[a] != 1 or x.roles[a] != "1":
                raise McuqError(f"node {_node_label(node)} (Squeeze) removes axis {a} of shape "
                                f"{list(x.shape)}, which is not a singleton axis")
        keep = [i for i in range(len(x.shape)) if i not in axes]
        return [Act(x.tensor, tuple(x.roles[i] for i in keep), tuple(x.shape[i] for i in keep))]

    def op_Unsqueeze(self, node):
        x = self.act(node.input[0], node)
        rank = len(x.shape) + len(_axes(self, node, None) or [])
        axes = sorted(a % rank for a in _axes(self, node, rank))
        roles, shape = list(x.roles), list(x.shape)
        for a in axes:
            roles.insert(a, "1")
            shape.insert(a, 1)
        return [Act(x.tensor, tuple(roles), tuple(shape))]

    def op_Reshape(self, node):
        x = self.act(node.input[0], node)
        target = [int(v) for v in self.const(node.input[1], node)]
        allowzero = _attrs(node).get("allowzero", 0)
        shape = [x.shape[i] if (v == 0 and not allowzero) else v for i, v in enumerate(target)]
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape[shape.index(-1)] = int(np.prod(x.shape)) // max(known, 1)
        return [self.relayout(node, x, shape)]

    def op_Flatten(self, node):
        x = self.act(node.input[0], node)
        axis = _attrs(node).get("axis", 1) % max(len(x.shape), 1)
        shape = [int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))]
        return [self.relayout(node, x, shape)]

    def relayout(self, node, x: Act, shape):
        """A reshape that only adds or removes singleton axes keeps every role."""
        big_in = [(r, s) for r, s in zip(x.roles, x.shape) if s != 1 or r != "1"]
        big_out = [s for s in shape if s != 1]
        if [s for _, s in big_in if s != 1] != big_out or any(s == 1 for _, s in big_in):
            raise McuqError(f"node {_node_label(node)} ({node.op_type}) reshapes {list(x.shape)} to "
                            f"{list(shape)}, which mixes time and feature axes; mcuq supports "
                            "reshapes that only add or remove singleton axes")
        it = iter(r for r, _ in big_in)
        roles = tuple(next(it) if s != 1 else "1" for s in shape)
        return Act(x.tensor, roles, tuple(int(s) for s in shape))

    # -- compute ops: become layers -----------------------------------------
    def feature_input(self, node, x: Act, size: int):
        if x.roles[-1] != "F" or x.shape[-1] != size:
            raise McuqError(f"node {_node_label(node)} ({node.op_type}) contracts axis of shape "
                            f"{list(x.shape)} with weights of input size {size}; mcuq supports "
                            "matrix products over the feature axis only")

    def op_MatMul(self, node):
        x = self.act(node.input[0], node)
        w = self.const(node.input[1], node)
        if w.ndim != 2:
            raise McuqError(f"node {_node_label(node)} (MatMul) needs 2-D weights, got {w.shape}")
        self.feature_input(node, x, w.shape[0])
        weight = np.ascontiguousarray(w.T.astype(np.float32))
        out = self.add_layer("linear", node, [x.tensor], w.shape[1],
                             {"weight": weight, "bias": np.zeros(w.shape[1], np.float32)},
                             {"has_bias": False})
        return [Act(out, x.roles, x.shape[:-1] + (w.shape[1],))]

    def op_Gemm(self, node):
        x = self.act(node.input[0], node)
        a = _attrs(node)
        if a.get("transA", 0):
            raise McuqError(f"node {_node_label(node)} (Gemm) with transA=1 is not supported")
        w = self.const(node.input[1], node).astype(np.float32) * a.get("alpha", 1.0)
        weight = w if a.get("transB", 0) else w.T
        n_out, n_in = weight.shape
        self.feature_input(node, x, n_in)
        bias = np.zeros(n_out, np.float32)
        if len(node.input) > 2 and node.input[2]:
            bias = bias + np.broadcast_to(self.const(node.input[2], node).reshape(-1),
                                          (n_out,)) * a.get("beta", 1.0)
        out = self.add_layer("linear", node, [x.tensor], n_out,
                             {"weight": np.ascontiguousarray(weight), "bias": bias.astype(np.float32)},
                             {"has_bias": True})
        return [Act(out, x.roles, x.shape[:-1] + (n_out,))]

    def op_Add(self, node):
        a, b = (self.values[i] for i in node.input)
        x, c = (a, b) if isinstance(a, Act) else (b, a)
        layer = self.layers[-1] if self.layers else None
        if isinstance(x, Act) and isinstance(c, np.ndarray) and _is_bias(c, x.features) and (
                layer is not None and layer.kind == "linear" and layer.outputs[0] == x.tensor
                and not layer.attrs["has_bias"]):
            bias = np.broadcast_to(c.reshape(-1), (x.features,))
            layer.weights["bias"] = (layer.weights["bias"] + bias).astype(np.float32)
            layer.attrs["has_bias"] = True
            layer.source += ", " + _node_label(node)
            return [x]
        what = "two activations" if isinstance(c, Act) else "a constant"
        self.unsupported.append(f"op Add of {what} that is not the bias of a MatMul "
                                f"(node {_node_label(node)})")
        return [None]

    def activation(self, node, kind):
        x = self.act(node.input[0], node)
        out = self.add_layer(kind, node, [x.tensor], x.features)
        return [Act(out, x.roles, x.shape)]

    def op_Relu(self, node):
        return self.activation(node, "relu")

    def op_Sigmoid(self, node):
        return self.activation(node, "sigmoid")

    def op_Tanh(self, node):
        return self.activation(node, "tanh")

    def op_GRU(self, node):
        return self.recurrent(node, "gru")

    def op_LSTM(self, node):
        return self.recurrent(node, "lstm")

    def recurrent(self, node, kind):
        label = f"node {_node_label(node)} ({node.op_type})"
        a = _attrs(node)
        direction = a.get("direction", b"forward")
        direction = direction.decode() if isinstance(direction, bytes) else direction
        if direction != "forward":
            raise McuqError(f"{label}: direction '{direction}' is not supported; mcuq streams "
                            "frames, so recurrent layers must be unidirectional (forward)")
        if kind == "gru" and a.get("linear_before_reset", 0) != 1:
            raise McuqError(f"{label}: linear_before_reset=0 is not supported (PyTorch's GRU "
                            "exports linear_before_reset=1)")
        if "activations" in a or "clip" in a or a.get("input_forget", 0):
            raise McuqError(f"{label}: custom activations, clip and input_forget are not supported")
        hidden = int(a["hidden_size"])
        layout = a.get("layout", 0)
        x = self.act(node.input[0], node)
        want = ("T", "1", "F") if layout == 0 else ("1", "T", "F")
        if x.roles != want:
            raise McuqError(f"{label}: input axes {x.roles} of shape {list(x.shape)} do not match "
                            f"layout={layout}; expected (time, batch, features) roles {want}")

        def opt(i):
            return node.input[i] if len(node.input) > i and node.input[i] else None

        if opt(4) is not None:
            lens = self.const(opt(4), node)
            if np.any(lens != x.shape[x.roles.index("T")]):
                raise McuqError(f"{label}: sequence_lens shorter than the sequence are not supported")
        for i, what in ((5, "initial_h"), (6, "initial_c"), (7, "P (peepholes)")):
            if opt(i) is None:
                continue
            if i == 7:
                raise McuqError(f"{label}: peephole connections are not supported")
            init = self.values.get(opt(i))
            if not isinstance(init, np.ndarray) or np.any(init != 0):
                raise McuqError(f"{label}: {what} must be zeros (a state passed in from outside "
                                "the model is not supported; mcuq keeps the state between frames)")

        gates = 3 if kind == "gru" else 4
        w = self.const(node.input[1], node)[0]
        r = self.const(node.input[2], node)[0]
        b = self.const(opt(3), node)[0] if opt(3) else np.zeros(2 * gates * hidden, np.float32)
        # ONNX gate order -> PyTorch gate order
        order = [1, 0, 2] if kind == "gru" else [0, 2, 3, 1]  # GRU zrh->rzn, LSTM iofc->ifgo

        def reorder(m):
            blocks = np.split(np.asarray(m, np.float32), gates, axis=0)
            return np.ascontiguousarray(np.concatenate([blocks[k] for k in order], axis=0))

        weights = {"w_ih": reorder(w), "w_hh": reorder(r),
                   "b_ih": reorder(b[: gates * hidden]), "b_hh": reorder(b[gates * hidden:])}
        if weights["w_ih"].shape[1] != x.features:
            raise McuqError(f"{label}: weights expect {weights['w_ih'].shape[1]} input features, "
                            f"the input has {x.features}")
        out = self.add_layer(kind, node, [x.tensor], hidden, weights, {"hidden": hidden})
        t = x.shape[x.roles.index("T")]
        y_roles = ("T", "1", "1", "F") if layout == 0 else ("1", "T", "1", "F")
        y_shape = (t, 1, 1, hidden) if layout == 0 else (1, t, 1, hidden)
        final = Unusable(f"is the final state of {label}: mcuq keeps the recurrent state inside "
                         "the model; use the per-frame output Y instead")
        return [Act(out, y_roles, y_shape), final, final]


def _guess_time_axis(dims) -> tuple[str, ...]:
    """Roles of a 3-D input: which of the two leading axes is time."""
    a, b = dims[0], dims[1]
    def is_batch_name(d):
        return isinstance(d, str) and "batch" in d.lower()
    if a == 1 and b != 1 or is_batch_name(a) or a == b == 1:
        return ("1", "T", "F")  # (batch, time, features); a single frame when both are 1
    if b == 1 and a != 1 or is_batch_name(b):
        return ("T", "1", "F")
    raise McuqError(f"cannot tell the time axis of the model input of shape {dims}: export it with "
                    "batch size 1 (for example an example input of shape (1, time, features))")


def _is_bias(c: np.ndarray, features: int) -> bool:
    """A constant that broadcasts along the feature axis only."""
    return c.size in (1, features) and all(s == 1 for s in c.shape[:-1])


def _attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _axes(imp: _Importer, node, rank):
    """Axes of Squeeze/Unsqueeze: from the attribute (opset < 13) or the second input."""
    a = _attrs(node)
    if "axes" in a:
        axes = list(a["axes"])
    elif len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in imp.const(node.input[1], node).reshape(-1)]
    else:
        return None
    return [ax % rank for ax in axes] if rank else axes


def _node_label(node) -> str:
    return f"'{node.name}'" if node.name else f"producing '{node.output[0]}'"


def import_onnx(model: onnx.ModelProto, time_steps: int | None = None) -> Graph:
    """Build the per-frame IR of an ONNX model (see the module docstring)."""
    graph = _Importer(model).run(time_steps)
    return fuse_activations(graph)


def fuse_activations(graph: Graph) -> Graph:
    """Fold a ReLU into the Linear layer that feeds only it (one kernel, one requant)."""
    layers = []
    for layer in graph.layers:
        prev = layers[-1] if layers else None
        if (layer.kind == "relu" and prev is not None and prev.kind == "linear"
                and "activation" not in prev.attrs and prev.outputs[0] == layer.inputs[0]
                and len(graph.consumers(layer.inputs[0])) == 1
                and layer.inputs[0] != graph.output):
            del graph.sizes[prev.outputs[0]]
            prev.outputs = layer.outputs
            prev.attrs["activation"] = "relu"
            prev.source += ", " + layer.source
            continue
        layers.append(layer)
    graph.layers = layers
    counts: dict[str, int] = {}
    for layer in layers:  # renumber names per kind after fusion
        counts[layer.kind] = counts.get(layer.kind, 0) + 1
        layer.name = f"{layer.kind}{counts[layer.kind] - 1}"
    return graph

"""ONNX -> mcuq per-frame IR.

Real exporters wrap compute nodes in layout plumbing: Transposes between batch-first
and time-first, Squeeze/Reshape of the direction axis, and shape arithmetic
(Shape -> Gather -> Concat -> Expand) that builds zero initial states. The importer
walks the graph once and gives every value one of three meanings (see
mcuq.frontend.onnx_node): a constant, folded with ONNX's reference evaluator so
shape arithmetic never needs a rule of its own; an activation (`Act`), whose source
layout only moves around under the layout ops handled here; or unusable.

Compute nodes are handed to the op that declares their ONNX type (mcuq.ops); its
handler builds the IR layer through `add_layer`. Anything else is collected and
reported with the node that uses it. Rewrites of the result (fusions, folding,
clean-up) are graph passes (mcuq.passes), not the importer's business.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from mcuq.errors import McuqError
from mcuq.frontend.onnx_check import check_fold, graph_nodes
from mcuq.frontend.onnx_node import Act, Unusable, attrs, label
from mcuq.ir import Graph, Layer, Tensor
from mcuq.ops import onnx_op, onnx_types, op

LAYOUT_OPS = ("Transpose", "Squeeze", "Unsqueeze", "Reshape", "Flatten")
# window ops that also slide over a 1-D signal (1, C, L): as over an image of height 1
WINDOW_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool",
              "GlobalMaxPool", "ReduceMean", "ReduceMax")
# ops that read a 1-D signal's image as it is (element-wise, per channel); any other
# reader gets the signal as its (C, L) frame
SIGNAL_READERS = ("Relu", "Sigmoid", "Tanh", "BatchNormalization", "Clip", "LeakyRelu",
                  "HardSigmoid", "HardSwish", "Identity", "Dropout", "Add")
MAX_REPORTED = 6  # unsupported nodes named in the error; the rest are counted
MAX_FRAME_RANK = 4  # a frame is a vector, an image (C, H, W), or a row-major 2-D or 4-D array
# probe lengths for a dynamic time axis: primes unlikely to equal a feature size
_PROBE_T = (29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97)


def supported_ops() -> str:
    return (", ".join(onnx_types()) + ", layout ops (" + ", ".join(LAYOUT_OPS)
            + ") and constant shape arithmetic")


class _Importer:
    def __init__(self, model: onnx.ModelProto, whole_frame: bool = False):
        self.model = model
        self.whole_frame = whole_frame  # a stateless model's input is one frame
        self.graph = model.graph
        self.values: dict[str, object] = {}
        self.layers: list[Layer] = []
        self.tensors: dict[str, Tensor] = {}
        self.unsupported: list[str] = []
        self.kind_count: dict[str, int] = {}
        self.signal_images: dict[str, str] = {}  # a (C, L) frame's tensor -> its image's
        self.stateful = any(onnx_op(node.op_type) is not None and onnx_op(node.op_type).STATEFUL
                            for node in self.graph.node)
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                          onnx.defs.onnx_opset_version())

    # -- what op handlers use ------------------------------------------------
    def new_tensor(self, shape) -> str:
        name = f"t{len(self.tensors)}"
        self.tensors[name] = Tensor(tuple(int(s) for s in shape))
        return name

    def add_layer(self, kind, node, inputs: list[str], weights=None, attrs_=None) -> str:
        """Append a layer of `kind` reading IR tensors `inputs`; returns its output tensor,
        shaped by the op's output_shape."""
        for key, w in (weights or {}).items():
            if np.issubdtype(np.asarray(w).dtype, np.floating) and not np.all(np.isfinite(w)):
                raise McuqError(f"node {label(node)} ({node.op_type}): its {key} holds NaN or "
                                "infinite values; the model file is broken")
        layer = Layer(kind=kind, name=f"{kind}{self.kind_count.get(kind, 0)}", inputs=inputs,
                      outputs=[], weights=weights or {}, attrs=attrs_ or {}, source=label(node))
        self.kind_count[kind] = self.kind_count.get(kind, 0) + 1
        shape = op(kind).output_shape(layer, [self.tensors[t].shape for t in inputs])
        layer.outputs = [self.new_tensor(shape)]
        self.layers.append(layer)
        return layer.outputs[0]

    def elementwise(self, node, kind) -> list:
        """A one-input layer whose output has the input's shape (activations)."""
        x = self.act(node.input[0], node)
        return [x.with_frame_shape(self.add_layer(kind, node, [x.tensor]), x.frame_shape)]

    def const(self, name: str, node) -> np.ndarray:
        value = self.values.get(name)
        if not isinstance(value, np.ndarray):
            raise McuqError(f"node {label(node)} ({node.op_type}): input '{name}' must be a "
                            "constant (weights computed at run time are not supported)")
        return value

    def act(self, name: str, node) -> Act:
        value = self.values.get(name)
        if isinstance(value, Act):
            return value
        raise McuqError(f"node {label(node)} ({node.op_type}): input '{name}' is not an "
                        "activation of the model input")

    def value(self, name: str):
        return self.values.get(name)

    def refuse(self, why: str) -> list:
        """Record an unsupported use (reported with all others at the end)."""
        self.unsupported.append(why)
        return [None]

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
        x = Act("", roles, shape)
        in_tensor = self.new_tensor(x.frame_shape)
        self.values[model_input.name] = Act(in_tensor, roles, shape)

        for node in graph_nodes(self.graph, self.opset):
            self.visit(node)

        if self.unsupported:
            shown = self.unsupported[:MAX_REPORTED]
            more = len(self.unsupported) - len(shown)
            raise McuqError("unsupported: " + "; ".join(shown)
                            + (f"; and {more} more" if more else "")
                            + f". mcuq supports {supported_ops()}")
        if len(self.graph.output) != 1:
            names = ", ".join(o.name for o in self.graph.output)
            raise McuqError(f"mcuq needs a model with exactly one output; this one has "
                            f"{len(self.graph.output)} ({names}); return only the network output")
        out = self.values.get(self.graph.output[0].name)
        if isinstance(out, Act) and out.signal:
            out = self.signal_frame(self.graph.node[-1], out)
        if isinstance(out, Unusable):
            raise McuqError(f"the model output {out.why}")
        if isinstance(out, Act) and out.tensor == in_tensor:
            # at most a change of layout: an identity, which the graph passes make a copy
            out = Act(self.add_layer("identity", self.graph.node[-1] if self.graph.node else
                                     onnx.helper.make_node("Identity", [], ["output"]),
                                     [in_tensor]), out.roles, out.shape)
        if not isinstance(out, Act) or not self.layers:
            raise McuqError("the model output does not depend on its input through any layer")
        return Graph(input=in_tensor, output=out.tensor, tensors=self.tensors,
                     layers=self.layers, input_roles=roles, output_roles=out.roles,
                     source_input_name=model_input.name, output_final=out.final)

    def input_layout(self, value_info, time_steps):
        dims = []
        for d in value_info.type.tensor_type.shape.dim:
            if d.HasField("dim_value") and d.dim_value <= 0:
                raise McuqError(f"model input '{value_info.name}' has an axis of extent "
                                f"{d.dim_value}; every axis needs at least one value")
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or "?"))
        if not dims or isinstance(dims[-1], str):
            raise McuqError(f"model input '{value_info.name}' needs a fixed feature size on its "
                            f"last axis; its shape is {dims}")
        n = len(dims)
        fixed = all(isinstance(d, int) for d in dims)
        if self.whole_frame:
            # one frame: everything but a leading batch axis of 1 (or a named one)
            roles = ("1",) + ("F",) * (n - 1) if n > 1 and (dims[0] == 1 or _is_batch_name(
                dims[0])) else ("F",) * n
            if any(isinstance(d, str) for r, d in zip(roles, dims) if r == "F") or \
                    roles.count("F") > MAX_FRAME_RANK:
                raise McuqError(f"model input '{value_info.name}' has shape {dims}, which is "
                                "no frame mcuq can hold")
            return roles, tuple(1 if r == "1" else d for r, d in zip(roles, dims))
        if not self.stateful and n == 4 and dims[0] != 1 and fixed:
            roles = ("T", "F", "F", "F")  # a batch of images
            return roles, tuple(dims)
        if not self.stateful and n >= 3 and dims[0] != 1 and fixed:
            # no layer keeps state, so leading axes are independent items (frames)
            roles = ("T",) * (n - 1) + ("F",)
            return roles, tuple(dims)
        if n == 1:
            roles = ("F",)
        elif n == 2 and self.read_transposed(value_info.name):
            # (features, items): a Gemm with transA=1 reads the input
            roles = ("F", "1") if dims[1] == 1 else ("F", "T")
        elif n == 2:
            # (batch, features) when the leading axis is a fixed 1, else (time, features)
            roles = ("1", "F") if dims[0] == 1 else ("T", "F")
        elif n == 3 and self.recurrent_axes(value_info.name) is not None:
            # the input of a GRU/LSTM/RNN node, whose layout says where time is
            time, batch = self.recurrent_axes(value_info.name)
            wide = isinstance(dims[batch], int) and dims[batch] > 1
            roles = tuple("T" if i == time else ("N" if wide else "1") if i == batch else "F"
                          for i in range(3))
        elif n == 3:
            roles = _guess_time_axis(dims)
        elif n == 4 and (dims[0] == 1 or _is_batch_name(dims[0])) and all(
                isinstance(d, int) for d in dims[1:]):
            roles = ("1", "F", "F", "F")  # an image (batch, channels, height, width)
        else:
            raise McuqError(f"model input '{value_info.name}' has shape {dims}; mcuq takes "
                            "(features), (batch, features), a 3-D sequence, a 4-D image "
                            "(batch, channels, height, width), or for a model without state "
                            "one frame of up to 4 axes")
        shape = []
        for role, d in zip(roles, dims):
            if role == "1":
                shape.append(1)
            elif role == "F":
                shape.append(d)
            else:
                shape.append(d if isinstance(d, int) else time_steps or self.probe_time_steps())
        return tuple(roles), tuple(shape)

    def recurrent_axes(self, name: str, depth: int = 0) -> tuple[int, int] | None:
        """(time axis, batch axis) of 3-D tensor `name` when a GRU, LSTM or RNN node reads
        it as its X, directly or through Transposes (a batch-first model's), from that
        node's layout attribute; None otherwise."""
        for node in self.graph.node:
            if not node.input or node.input[0] != name:
                continue
            if node.op_type in ("GRU", "LSTM", "RNN"):
                return (0, 1) if int(attrs(node).get("layout", 0)) == 0 else (1, 0)
            if node.op_type == "Transpose" and depth < 4:
                perm = list(attrs(node).get("perm", [2, 1, 0]))
                inner = self.recurrent_axes(node.output[0], depth + 1)
                if inner is not None and sorted(perm) == [0, 1, 2]:
                    return perm[inner[0]], perm[inner[1]]
        return None

    def read_transposed(self, name: str) -> bool:
        """Whether a Gemm with transA=1 reads tensor `name` as its A."""
        return any(node.op_type == "Gemm" and node.input[0] == name
                   and attrs(node).get("transA", 0) for node in self.graph.node)

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
            self.unsupported.append(f"node {label(node)} ({node.op_type}) uses an output "
                                    f"that {bad.why}")
            return
        if node.op_type == "Shape" and isinstance(ins[0], Act):
            self.set_outputs(node, [self.fold_shape(node, ins[0])])
            return
        if node.op_type in WINDOW_OPS and self.signal_window(node, ins[0]):
            self.set_outputs(node, self.window_1d(node, ins[0]))
            return
        acts = [v for v in present if isinstance(v, Act)]
        if any(v.signal for v in acts) and not (
                node.op_type in SIGNAL_READERS and all(v.signal for v in acts)
                and len(acts) == len(present)):
            for name in node.input:  # this reader needs the (C, L) frames
                v = self.values.get(name) if name else None
                if isinstance(v, Act) and v.signal:
                    self.values[name] = self.signal_frame(node, v)
            ins = [self.values.get(i) if i else None for i in node.input]
        if all(isinstance(v, np.ndarray) for v in present):
            self.set_outputs(node, self.fold(node))
            return
        layout = getattr(self, "op_" + node.op_type, None) if node.op_type in LAYOUT_OPS else None
        if node.op_type == "Gather" and isinstance(ins[0], Act):
            layout = self.op_Gather  # of a singleton axis: h_n[-1], a layout op
        if layout is not None:
            self.set_outputs(node, layout(node))
            return
        handler = onnx_op(node.op_type)
        if handler is None:
            self.unsupported.append(f"op {node.op_type} (node {label(node)})"
                                    + self.time_cut_hint(node, ins))
            return
        if any(isinstance(v, Act) and v.final for v in present):
            acts = [v for v in present if isinstance(v, Act)]
            if handler.STATEFUL or not all(v.final for v in acts):
                self.unsupported.append(
                    f"node {label(node)} ({node.op_type}) reads a recurrent layer's final "
                    "state" + (" beside per-frame values" if not handler.STATEFUL else
                               " as a sequence") + ": mcuq computes it as that layer's output "
                    "at the last frame, which only stateless layers after it can use")
                return
        self.set_outputs(node, handler.import_onnx(self, node))

    def set_outputs(self, node, values):
        final = any(isinstance(self.values.get(i), Act) and self.values[i].final
                    for i in node.input if i)
        for name, value in zip(node.output, values):
            if name:
                if final and isinstance(value, Act) and not value.final:
                    value = dataclasses.replace(value, final=True)
                self.values[name] = value

    def fold(self, node):
        check_fold(node, self.values)
        feeds = {name: self.values[name] for name in node.input if name}
        try:
            return ReferenceEvaluator(node).run(None, feeds)
        except Exception as exc:  # the reference evaluator's own error types vary
            raise McuqError(f"cannot evaluate constant node {label(node)} "
                            f"({node.op_type}): {exc}") from None

    def fold_shape(self, node, x: Act):
        a = attrs(node)
        shape = np.array(x.shape, dtype=np.int64)
        start, end = a.get("start", 0), a.get("end", len(shape))
        return shape[start:end]

    # -- layout ops: move roles around one tensor ----------------------------
    def op_Transpose(self, node):
        x = self.act(node.input[0], node)
        perm = [int(p) for p in attrs(node).get("perm", list(reversed(range(len(x.shape)))))]
        if sorted(perm) != list(range(len(x.shape))):
            raise McuqError(f"node {label(node)} (Transpose) has perm {perm}, which is not a "
                            f"permutation of the {len(x.shape)} axes of its input")
        roles = tuple(x.roles[p] for p in perm)
        shape = tuple(x.shape[p] for p in perm)
        items = [p for p in perm if x.roles[p] == "T" and x.shape[p] > 1]
        if items != sorted(items):
            raise McuqError(f"node {label(node)} (Transpose) has perm {perm}, which reorders "
                            f"the time or item axes of shape {list(x.shape)}; mcuq keeps frames "
                            "in their order")
        frame_perm = [x.frame_axis(p) for p in _f_order(x.roles, perm)]
        if frame_perm == sorted(frame_perm):  # only time and singleton axes move
            return [Act(x.tensor, roles, shape)]
        # the per-frame axes move: a transpose layer puts the values in their new order
        frame = tuple(x.frame_shape[i] for i in frame_perm)
        out = self.add_layer("transpose", node, [x.tensor],
                             attrs_=op("transpose").attrs_of(frame_perm, frame))
        return [Act(out, roles, shape)]

    def op_Gather(self, node):
        """Gather of index 0 (or -1) on an axis of extent 1 (an RNN's direction axis in
        h_n[-1]): a Squeeze of that axis (a scalar index) or nothing (one index)."""
        x = self.act(node.input[0], node)
        axis = attrs(node).get("axis", 0) % len(x.shape)
        index = self.values.get(node.input[1])
        if not isinstance(index, np.ndarray) or index.size != 1 or x.shape[axis] != 1 or \
                int(index.reshape(-1)[0]) not in (0, -1) or x.roles[axis] == "T":
            self.unsupported.append(
                f"op Gather on axis {axis} of shape {list(x.shape)} (node {label(node)}): mcuq "
                "gathers only index 0 of an axis of extent 1 (h_n[-1] of a one-direction, "
                "one-layer RNN)")
            return [None]
        if index.ndim == 1:
            return [x]
        keep = [i for i in range(len(x.shape)) if i != axis]
        return [dataclasses.replace(x, roles=tuple(x.roles[i] for i in keep),
                                    shape=tuple(x.shape[i] for i in keep))]

    # -- 1-D windows: a signal (1, C, L) as an image (C, 1, L) ---------------------
    def signal_window(self, node, x) -> bool:
        """Whether a window node slides over a 1-D signal: its input is one (C, L) frame
        (or a signal) and its kernel has one axis (Conv: a 3-D weight)."""
        if not isinstance(x, Act) or len(x.roles) != 3 or x.roles[0] == "F" or \
                x.roles[1:] != ("F", "F"):
            return False
        if node.op_type.startswith("Global"):
            return True
        if node.op_type.startswith("Reduce"):  # over the length axis only
            return self.reduced_axes(node) == [2]
        kernel = attrs(node).get("kernel_shape")
        if kernel is None and len(node.input) > 1:
            w = self.values.get(node.input[1])
            return isinstance(w, np.ndarray) and w.ndim == 3
        return kernel is not None and len(kernel) == 1

    def reduced_axes(self, node) -> list[int] | None:
        """The axes a ReduceMean/ReduceMax of a 3-D tensor reduces (attribute or input)."""
        if len(node.input) > 1 and node.input[1]:
            axes = self.values.get(node.input[1])
            if not isinstance(axes, np.ndarray):
                return None
            axes = [int(v) for v in axes.reshape(-1)]
        else:
            axes = [int(v) for v in attrs(node).get("axes", [])]
        return sorted(v % 3 for v in axes) if axes else None

    def signal_image(self, node, x: Act) -> Act:
        """The 4-D image Act (.., C, 1, L) of signal or (C, L) frame `x`; a (C, L) frame
        is moved into the image by a transpose layer (its values change order in C)."""
        c, length = x.shape[1], x.shape[2]
        tensor = x.tensor
        if not x.signal:
            tensor = self.signal_images.get(x.tensor) or self.add_layer(
                "transpose", node, [x.tensor], attrs_=op("transpose").attrs_of([0, 1], (c, 1, length)))
            self.signal_images[x.tensor] = tensor
        return Act(tensor, (x.roles[0], "F", "F", "F"), (x.shape[0], c, 1, length))

    def signal_frame(self, node, x: Act) -> Act:
        """Signal `x` as its (C, L) frame, for a reader that is no window or per-channel op."""
        c, length = x.shape[1], x.shape[2]
        frame = self.add_layer("transpose", node, [x.tensor],
                               attrs_=op("transpose").attrs_of([0, 1, 2], (c, length)))
        self.signal_images[frame] = x.tensor
        return dataclasses.replace(x, tensor=frame, signal=False)

    def window_1d(self, node, x: Act) -> list:
        """A window op over a 1-D signal, as the same op over an image of height 1: the
        node's attributes and weights get a leading axis of extent 1 (kernel (1, k),
        pads (0, begin, 0, end), ...), its handler runs on that node, and its image output
        is a signal again."""
        a = attrs(node)
        widen = {"kernel_shape": [1], "strides": [1], "dilations": [1],
                 "output_padding": [0], "output_shape": [1]}
        new_attrs = {}
        for key, value in a.items():
            if key in widen:
                value = widen[key] + list(value)
            elif key == "pads":
                value = [0, value[0], 0, value[1]] if len(value) == 2 else list(value)
            new_attrs[key] = value
        image_name = f"{node.input[0]}@image"
        self.values[image_name] = self.signal_image(node, x)
        inputs = [image_name]
        if len(node.input) > 1 and node.input[1]:
            w = self.values.get(node.input[1])
            if isinstance(w, np.ndarray) and w.ndim == 3:
                self.values[f"{node.input[1]}@image"] = w[:, :, None, :]
                inputs.append(f"{node.input[1]}@image")
            else:
                inputs.append(node.input[1])
        if node.op_type.startswith("Reduce"):  # the length axis is the image's width
            if "axes" in new_attrs:
                new_attrs["axes"] = [2, 3]
            else:
                self.values[f"{node.input[1]}@image"] = np.array([2, 3], np.int64)
                inputs[1] = f"{node.input[1]}@image"
        inputs += list(node.input[2:])
        image_node = onnx.helper.make_node(node.op_type, inputs, list(node.output),
                                           name=node.name, **new_attrs)
        outs = onnx_op(node.op_type).import_onnx(self, image_node)
        return [Act(v.tensor, v.roles[:-3] + ("F", "F"), v.shape[:-3] + (v.shape[-3], v.shape[-1]),
                    signal=True)
                if isinstance(v, Act) and len(v.shape) == 4 and v.shape[-2] == 1 else v
                for v in outs]

    def time_cut_hint(self, node, ins) -> str:
        """Why a Slice or Split of the time axis is refused, and the usual cause."""
        if node.op_type not in ("Slice", "Split") or not isinstance(ins[0], Act) or \
                "T" not in ins[0].roles or any("cuts the sequence" in u for u in self.unsupported):
            return ""
        return (": it cuts the sequence along time, which mcuq streams frame by frame; an "
                "exporter that unrolls a recurrent layer over time does this "
                "(torch.onnx.export(dynamo=True) and torch.export unroll nn.RNN): export it "
                "with torch.onnx.export(..., dynamo=False)")

    def op_Squeeze(self, node):
        x = self.act(node.input[0], node)
        axes = _axes(self, node, len(x.shape))
        if axes is None:
            axes = [i for i, s in enumerate(x.shape) if s == 1]
        spatial = [a for a in axes if x.roles[a] == "F"]
        if spatial and len(x.frame_shape) == 3 and x.frame_shape[1:] == (1, 1) and \
                all(x.frame_axis(a) in (1, 2) for a in spatial):
            # (.., C, 1, 1) -> (.., C): a pooled image becomes a vector; a spatial axis
            # that stays (one squeeze at a time) is a singleton of the vector
            flat = self.flatten(node, x, list(x.shape[:-3]) + [x.frame_shape[0]])
            x = Act(flat.tensor, x.roles[:-2] + ("1", "1"), x.shape)
            axes = [a for a in axes if a not in spatial] + spatial
        for a in axes:
            if x.shape[a] != 1:
                raise McuqError(f"node {label(node)} (Squeeze) removes axis {a} of shape "
                                f"{list(x.shape)}, whose extent is {x.shape[a]}, not 1")
            if x.roles[a] == "T":
                raise McuqError(f"node {label(node)} (Squeeze) removes axis {a} of shape "
                                f"{list(x.shape)}, the time axis (of extent 1 in this export); "
                                "mcuq streams frames along it: export with a longer sequence")
        keep = [i for i in range(len(x.shape)) if i not in axes]
        if any(x.roles[a] == "F" for a in axes):  # the frame loses an axis: regroup it
            return [self.regroup(node, x, [x.shape[i] for i in keep])]
        return [Act(x.tensor, tuple(x.roles[i] for i in keep), tuple(x.shape[i] for i in keep))]

    def op_Unsqueeze(self, node):
        x = self.act(node.input[0], node)
        given = _axes(self, node, None)
        if not given:
            raise McuqError(f"node {label(node)} (Unsqueeze) names no axes to insert")
        rank = len(x.shape) + len(given)
        if any(not -rank <= a < rank for a in given) or len({a % rank for a in given}) != len(given):
            raise McuqError(f"node {label(node)} (Unsqueeze) has axes {given}, not distinct "
                            f"axes of a rank-{rank} output")
        axes = sorted(a % rank for a in given)
        roles, shape = list(x.roles), list(x.shape)
        for a in axes:
            roles.insert(a, "1")
            shape.insert(a, 1)
        return [Act(x.tensor, tuple(roles), tuple(shape))]

    def op_Reshape(self, node):
        x = self.act(node.input[0], node)
        if len(node.input) > 1 and node.input[1]:
            target = [int(v) for v in self.const(node.input[1], node).reshape(-1)]
        elif "shape" in attrs(node):  # opset 1-4: the shape is an attribute
            target = [int(v) for v in attrs(node)["shape"]]
        else:
            raise McuqError(f"node {label(node)} (Reshape) has no target shape")
        allowzero = attrs(node).get("allowzero", 0)
        shape = [x.shape[i] if (v == 0 and not allowzero) else v for i, v in enumerate(target)]
        if shape.count(-1) > 1 or any(s < -1 for s in shape):
            raise McuqError(f"node {label(node)} (Reshape) has target shape {target}; ONNX allows "
                            "at most one -1 and no other negative extent")
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape[shape.index(-1)] = int(np.prod(x.shape)) // max(known, 1)
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            raise McuqError(f"node {label(node)} (Reshape) reshapes {list(x.shape)} "
                            f"({int(np.prod(x.shape))} values) to {shape}, which holds "
                            f"{int(np.prod(shape))}")
        return [self.relayout(node, x, shape)]

    def op_Flatten(self, node):
        x = self.act(node.input[0], node)
        axis = attrs(node).get("axis", 1) % max(len(x.shape), 1)
        shape = [int(np.prod(x.shape[:axis])), int(np.prod(x.shape[axis:]))]
        return [self.relayout(node, x, shape)]

    def flatten(self, node, x: Act, shape) -> Act | None:
        """A reshape of an image (C, H, W) into a vector (C * H * W,) in channel-major
        order, the leading (time, singleton) axes kept: a flatten layer (in C the image
        is HWC, so the values move). None when `shape` is not that."""
        first = len(x.roles) - 3
        if len(x.frame_shape) != 3 or x.roles[first:] != ("F", "F", "F") or \
                list(shape) != list(x.shape[:first]) + [int(np.prod(x.frame_shape))]:
            return None
        out = self.add_layer("flatten", node, [x.tensor])
        return Act(out, x.roles[:first] + ("F",), tuple(int(s) for s in shape))

    def relayout(self, node, x: Act, shape):
        """A reshape that only adds or removes singleton axes keeps every role. The time and
        per-frame axes must appear in the new shape in order; every other new axis must be
        1. They are matched from the right, so a per-frame axis of extent 1 (a hidden size
        of 1) stays the last axis, where the features are."""
        flat = self.flatten(node, x, shape)
        if flat is not None:
            return flat
        keep = [(r, s) for r, s in zip(x.roles, x.shape) if r != "1"]
        roles = []
        j = len(keep) - 1
        for s in reversed([int(v) for v in shape]):
            if j >= 0 and s == keep[j][1]:
                roles.append(keep[j][0])
                j -= 1
            elif s == 1:
                roles.append("1")
            else:
                break
        if j >= 0 or len(roles) != len(shape):
            return self.regroup(node, x, [int(s) for s in shape])
        return Act(x.tensor, tuple(reversed(roles)), tuple(int(s) for s in shape))

    def regroup(self, node, x: Act, shape: list) -> Act:
        """A reshape that keeps the leading time and singleton axes and regroups the values
        of each frame: a transpose layer into the new per-frame shape (in C the values
        move when an image's HWC order is involved). Leading 1s of the new frame are
        singletons while they make it more than a vector or an image (C, H, W)."""
        lead = next((i for i, r in enumerate(x.roles) if r == "F"), len(x.roles))
        where = f"node {label(node)} ({node.op_type}) reshapes {list(x.shape)} to {shape}"
        if any(r != "F" for r in x.roles[lead:]) or shape[:lead] != list(x.shape[:lead]) or \
                int(np.prod(shape[lead:])) != int(np.prod(x.frame_shape)):
            time = [i for i, r in enumerate(x.roles) if r == "T"]
            raise McuqError(f"{where}, which moves values between frames (axes {time} are "
                            f"{'time' if self.stateful else 'independent items'}); mcuq "
                            "reshapes within a frame only")
        frame = shape[lead:]
        singletons = 0
        while frame[singletons:singletons + 1] == [1] and (len(frame) - singletons > 3 or
                                                           len(frame) - singletons == 2):
            singletons += 1
        frame = frame[singletons:]
        if len(frame) > MAX_FRAME_RANK:
            raise McuqError(f"{where}, whose frames would have the shape {frame}; mcuq's "
                            f"frames have at most {MAX_FRAME_RANK} axes")
        out = self.add_layer("transpose", node, [x.tensor],
                             attrs_=op("transpose").attrs_of(range(len(x.frame_shape)), frame))
        return Act(out, tuple(x.roles[:lead]) + ("1",) * singletons + ("F",) * len(frame),
                   tuple(shape))


def _f_order(roles, perm) -> list[int]:
    """Where the per-frame axes come from, in their new order."""
    return [p for p in perm if roles[p] == "F"]


def _is_batch_name(d) -> bool:
    return isinstance(d, str) and "batch" in d.lower()


def _guess_time_axis(dims) -> tuple[str, ...]:
    """Roles of a 3-D input: which of the two leading axes is time."""
    a, b = dims[0], dims[1]
    if a == 1 and b != 1 or _is_batch_name(a) or a == b == 1:
        return ("1", "T", "F")  # (batch, time, features); a single frame when both are 1
    if b == 1 and a != 1 or _is_batch_name(b):
        return ("T", "1", "F")
    raise McuqError(f"cannot tell the time axis of the model input of shape {dims}: export it with "
                    "batch size 1 (for example an example input of shape (1, time, features))")


def _axes(imp: _Importer, node, rank):
    """Axes of Squeeze/Unsqueeze: from the attribute (opset < 13) or the second input."""
    a = attrs(node)
    if "axes" in a:
        axes = list(a["axes"])
    elif len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in imp.const(node.input[1], node).reshape(-1)]
    else:
        return None
    return [ax % rank for ax in axes] if rank else axes


def import_onnx(model: onnx.ModelProto, time_steps: int | None = None) -> Graph:
    """The per-frame IR of an ONNX model as imported, before any graph pass. A model that
    keeps no state takes its input's leading axes as independent items (frames) where its
    layers keep them apart; where one does not (a Transpose, Reshape or Softmax across
    them), the whole input is one frame. The first reading's refusal is reported when
    neither works."""
    importer = _Importer(model)
    try:
        return importer.run(time_steps)
    except McuqError as first:
        if importer.stateful:
            raise
        try:
            return _Importer(model, whole_frame=True).run(time_steps)
        except McuqError:
            raise first from None

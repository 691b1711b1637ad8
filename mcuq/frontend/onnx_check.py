"""The structure of an ONNX graph, checked before the importer walks it.

A model from a stranger may be malformed in ways ONNX Runtime would refuse and the
importer would misread: a tensor written by two nodes, a cycle, a node reading a value
nothing provides, a required attribute missing, too few inputs for the op's schema, or
a constant loop that would run for hours while it is folded. Each is one line naming
the node. Nodes out of topological order (which the ONNX standard forbids, but some
tools write) are sorted; nodes the output does not depend on are dropped before
anything is evaluated, so an unused constant costs nothing.
"""
from __future__ import annotations

import onnx
import onnx.defs

from mcuq.errors import McuqError
from mcuq.frontend.onnx_node import label

MAX_LOOP_TRIPS = 10_000  # a constant Loop folded at import: shape arithmetic, not compute
MAX_FOLDED_VALUES = 1 << 26  # values of one folded constant (256 MB of float32)


def _where(node) -> str:
    return f"node {label(node)} ({node.op_type})"


def graph_nodes(graph: onnx.GraphProto, opset: int) -> list:
    """The nodes the graph output depends on, in an order where every value is produced
    before it is read; the graph's structure and each node's schema checked."""
    provided = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    writer, index = {}, {}
    for i, node in enumerate(graph.node):
        index[id(node)] = i
        for name in node.output:
            if not name:
                continue
            if name in writer or name in provided:
                first = (f"node #{index[id(writer[name])]} ({writer[name].op_type})"
                         if name in writer else "a graph input or initializer")
                raise McuqError(f"tensor '{name}' is written by node #{i} ({node.op_type}) and "
                                f"by {first}; an ONNX graph writes each tensor once")
            writer[name] = node
    for node in graph.node:
        check_schema(node, opset)
        for name in node.input:
            if name and name not in writer and name not in provided:
                raise McuqError(f"{_where(node)} reads '{name}', which no node, initializer "
                                "or graph input provides")
    needed = _needed(graph, writer)
    return _sorted([n for n in graph.node if id(n) in needed], writer)


def _needed(graph, writer) -> set[int]:
    """ids of the nodes some graph output depends on."""
    needed, todo = set(), [o.name for o in graph.output]
    while todo:
        node = writer.get(todo.pop())
        if node is None or id(node) in needed:
            continue
        needed.add(id(node))
        todo.extend(i for i in node.input if i)
    return needed


def _sorted(nodes: list, writer) -> list:
    """Kahn's order, stable for a graph already sorted; a cycle is named."""
    mine = {id(n) for n in nodes}
    waiting = {id(n): {id(writer[i]) for i in n.input if i in writer and id(writer[i]) in mine}
               for n in nodes}
    done, order = set(), []
    progress = True
    while progress:
        progress = False
        for node in nodes:
            if id(node) not in done and waiting[id(node)] <= done:
                done.add(id(node))
                order.append(node)
                progress = True
    if len(order) < len(nodes):
        stuck = [n for n in nodes if id(n) not in done][:4]
        raise McuqError("the graph has a cycle through " + ", ".join(_where(n) for n in stuck)
                        + "; an ONNX graph must be acyclic")
    return order


def check_schema(node, opset: int) -> None:
    """Required attributes and the input count of a standard op, from ONNX's schema at the
    model's opset (an unknown op is left to the importer, which names it as unsupported)."""
    if node.domain not in ("", "ai.onnx"):
        return
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, "")
    except onnx.defs.SchemaError:
        return
    present = {a.name for a in node.attribute}
    for name, attr in schema.attributes.items():
        if attr.required and name not in present:
            raise McuqError(f"{_where(node)} lacks its required attribute '{name}'")
    given = len(node.input)
    while given and not node.input[given - 1]:
        given -= 1
    if not schema.min_input <= given <= schema.max_input:
        span = (str(schema.min_input) if schema.min_input == schema.max_input
                else f"{schema.min_input} to {schema.max_input}")
        raise McuqError(f"{_where(node)} has {given} input(s); {node.op_type} at opset "
                        f"{schema.since_version} takes {span}")


def check_fold(node, values: dict) -> None:
    """Refuse to fold a constant node whose evaluation would run too long or allocate too
    much: a Loop of many iterations, a generator of a huge constant."""
    import numpy as np

    def const(i):
        return values.get(node.input[i]) if len(node.input) > i and node.input[i] else None

    if node.op_type == "Loop":
        trips = const(0)
        if trips is None or int(np.asarray(trips).reshape(-1)[0]) > MAX_LOOP_TRIPS:
            count = "no trip count" if trips is None else f"{int(np.asarray(trips).reshape(-1)[0])} iterations"
            raise McuqError(f"{_where(node)} is a constant loop with {count}; mcuq folds "
                            f"constant loops of at most {MAX_LOOP_TRIPS} iterations at import")
        return
    if node.op_type in ("ConstantOfShape", "Expand"):
        shape = const(0 if node.op_type == "ConstantOfShape" else 1)
        count = int(np.prod(np.asarray(shape, dtype=object))) if shape is not None else 0
    elif node.op_type == "Tile" and const(0) is not None and const(1) is not None:
        count = const(0).size * int(np.prod(np.asarray(const(1), dtype=object)))
    elif node.op_type == "Range" and all(const(i) is not None for i in range(3)):
        start, limit, delta = (float(np.asarray(const(i)).reshape(-1)[0]) for i in range(3))
        count = int(abs((limit - start) / delta)) if delta else MAX_FOLDED_VALUES + 1
    else:
        return
    if count > MAX_FOLDED_VALUES:
        raise McuqError(f"{_where(node)} makes a constant of {count} values, beyond what mcuq "
                        f"folds at import ({MAX_FOLDED_VALUES})")

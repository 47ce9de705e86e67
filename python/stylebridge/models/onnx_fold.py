"""Fold small constant subgraphs of an ONNX model into initializers.

The TorchScript exporter at opset >= 11 computes each reflection Pad's ``pads`` with
a chain of ConstantOfShape/Concat/Reshape/Slice/Transpose/Cast nodes that it does not
fold. Barracuda's importer bakes constant nodes at import, but not Reshape, Slice or
Transpose, so a Pad may be left with computed pads it cannot use. Folding them here
gives every engine a plain ``Pad(x, pads)``. Only *small* tensors are folded (shape
arithmetic); a chain that expands stored-small weights (Cast -> Sub -> Mul, used for
weight-only compression) is left alone on purpose.
"""

from __future__ import annotations

import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

# Fold a node only when every input and output has at most this many elements.
MAX_FOLD_ELEMENTS = 4096
_NON_DETERMINISTIC = frozenset(
    {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial"}
)


def fold_constants(model: onnx.ModelProto) -> int:
    """Fold small all-constant nodes of ``model`` in place; the number of nodes folded.

    Constant nodes become initializers; nodes left without consumers are removed.
    """
    graph = model.graph
    opsets = list(model.opset_import)
    constants = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    kept: list[onnx.NodeProto] = []
    new_inits: list[onnx.TensorProto] = []
    folded = 0
    for node in graph.node:
        inputs = [name for name in node.input if name]
        has_subgraph = any(
            a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
            for a in node.attribute
        )
        foldable = (
            node.domain in ("", "ai.onnx")
            and node.op_type not in _NON_DETERMINISTIC
            and not has_subgraph
            and all(name in constants for name in inputs)
            and all(constants[name].size <= MAX_FOLD_ELEMENTS for name in inputs)
        )
        if not foldable:
            kept.append(node)
            continue
        values = _evaluate(node, {name: constants[name] for name in inputs}, opsets)
        if values is None or any(v.size > MAX_FOLD_ELEMENTS for v in values):
            kept.append(node)
            continue
        for name, value in zip(node.output, values, strict=True):
            constants[name] = value
            new_inits.append(numpy_helper.from_array(value, name))
        folded += 1
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(new_inits)
    _remove_unused(graph)
    return folded


def _evaluate(node: onnx.NodeProto, feeds: dict, opsets: list) -> list | None:
    """Run one node with the reference evaluator; None when it cannot."""
    inputs = [
        helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), None)
        for name, value in feeds.items()
    ]
    outputs = [helper.make_tensor_value_info(name, 0, None) for name in node.output]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    single = helper.make_model(graph, opset_imports=opsets)
    try:
        return list(ReferenceEvaluator(single).run(None, feeds))
    # The reference evaluator raises many kinds of errors for ops it lacks; any of
    # them means "leave this node alone", never a failed export.
    except Exception:
        return None


def _remove_unused(graph: onnx.GraphProto) -> None:
    """Drop nodes and initializers that nothing consumes (repeated to a fixpoint)."""
    while True:
        used = {o.name for o in graph.output}
        for node in graph.node:
            used.update(node.input)
            for attr in node.attribute:  # subgraphs may read outer names
                for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                    for inner in sub.node:
                        used.update(inner.input)
        dead = [n for n in graph.node if not any(out in used for out in n.output)]
        for node in dead:
            graph.node.remove(node)
        inputs = {i.name for i in graph.input}
        unused = [i for i in graph.initializer if i.name not in used and i.name not in inputs]
        for init in unused:
            graph.initializer.remove(init)
        if not dead and not unused:
            return

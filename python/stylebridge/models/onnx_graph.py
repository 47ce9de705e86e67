"""A plain description of any ONNX graph, for models that are not one-image style models.

``inspect`` uses it when ``load_onnx`` refuses a file that is still a valid ONNX model
(two inputs, a non-image input): the user sees what the file is before the reason.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from stylebridge.models.onnx_model import parse_onnx


def _shape(value: onnx.ValueInfoProto) -> str:
    tensor = value.type.tensor_type
    dtype = onnx.TensorProto.DataType.Name(tensor.elem_type) if tensor.elem_type else "?"
    dims = [
        d.dim_param or (str(d.dim_value) if d.HasField("dim_value") else "?")
        for d in tensor.shape.dim
    ]
    return f"{value.name}: {dtype}[{','.join(dims)}]"


def graph_rows(path: Path) -> list[tuple[str, str]]:
    """(field, value) rows: IR, opset, every input and output with its shape, operators.

    Only parses the file: no external data is followed, nothing is run.
    """
    path = Path(path)
    data = path.read_bytes()  # load_onnx checked its size before it refused the graph
    proto = parse_onnx(data, str(path))
    initializers = {init.name for init in proto.graph.initializer}
    inputs = [v for v in proto.graph.input if v.name not in initializers]
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    ops: dict[str, int] = {}
    for node in proto.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    rows = [
        ("kind", "ONNX model (not a one-image style model)"),
        ("IR version", str(proto.ir_version)),
        ("opset", str(opset)),
    ]
    rows += [(f"input {i + 1}", _shape(v)) for i, v in enumerate(inputs)]
    rows += [(f"output {i + 1}", _shape(v)) for i, v in enumerate(proto.graph.output)]
    rows.append(("operators", ", ".join(f"{op} x{n}" for op, n in sorted(ops.items()))))
    rows.extend((f"metadata {p.key}", p.value) for p in proto.metadata_props)
    return rows

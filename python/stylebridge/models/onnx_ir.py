"""ONNX IR versions older than StyleBridge's graph edits expect, read as IR 4."""

from __future__ import annotations

import onnx

# IR 4 stopped requiring every initializer to be a graph input (onnx 1.3, opset 9);
# older exporters list them all, and every graph StyleBridge builds around a model (the
# uint8 wrapper, quantizers, weight stores) adds initializers that are not inputs.
MIN_IR_VERSION = 4


def upgrade_ir(proto: onnx.ModelProto) -> str:
    """Raise an IR < 4 model to IR 4 in place: initializers stop being graph inputs.

    The operators and opset are untouched, so ONNX Runtime computes the same thing; a
    graph input that an initializer backs could be overridden by a feed before, and is
    a constant now (no style model takes its weights as a feed). Returns a note for
    the model's description, or "" when the model was already IR >= 4.
    """
    if proto.ir_version >= MIN_IR_VERSION:
        return ""
    old = proto.ir_version
    initializers = {init.name for init in proto.graph.initializer}
    kept = [value for value in proto.graph.input if value.name not in initializers]
    dropped = len(proto.graph.input) - len(kept)
    del proto.graph.input[:]
    proto.graph.input.extend(kept)
    proto.ir_version = MIN_IR_VERSION
    return (
        f"IR version {old} read as IR {MIN_IR_VERSION} ({dropped} initializers were also "
        "listed as graph inputs; they are constants now)"
    )

"""Optimize flow: turn a teacher TransformerNet into engine-ready variants.

One module per operation, each with one entry point taking a source, a destination
and a frozen config: ``export`` (torch -> ONNX at the engine's opset, checked against
torch on real frames); quantize, prune and distill follow the same shape. Nothing
is imported here, so that importing one operation does not load the others.
"""

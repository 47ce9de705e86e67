"""Python inference backends: ONNX Runtime (default), torch, and helpers for tests."""

from stylebridge.inference.base import BackendKind, InferenceBackend

__all__ = ["BackendKind", "InferenceBackend"]

"""One tree of errors for the whole package.

Every error carries the gRPC status code it maps to, so that one interceptor turns
any of them into a precise status for all four RPC kinds, and the CLI prints the
message alone. Messages say what went wrong *and* what to do about it.
"""

from __future__ import annotations

import grpc


class StyleBridgeError(Exception):
    """Base of every error this package raises on purpose."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidInputError(StyleBridgeError):
    """Input that can never be valid: wrong sizes, unknown formats, bad values."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class LimitExceededError(StyleBridgeError):
    """Input over a configured limit (frame bytes, model bytes, dimensions)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class NotFoundError(StyleBridgeError):
    """A named thing (session, model, file) does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class StateError(StyleBridgeError):
    """The request is valid but not now (e.g. a second stream for one session)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ProtocolVersionError(StateError):
    """Client and server speak incompatible protocol versions."""


class UnauthenticatedError(StyleBridgeError):
    """Missing or wrong token."""

    code = grpc.StatusCode.UNAUTHENTICATED


class ModelLoadError(InvalidInputError):
    """A checkpoint or ONNX file that cannot be loaded as a style model."""


class ModelFormatError(ModelLoadError):
    """A file that parses but does not have the layout of a known model."""


class EngineIncompatibleError(StyleBridgeError):
    """A model that the target engine cannot run."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class StoreError(StyleBridgeError):
    """The SQLite store cannot be opened or written."""

    code = grpc.StatusCode.UNAVAILABLE


class BackendError(StyleBridgeError):
    """An inference backend failed to load or run a model."""

    code = grpc.StatusCode.INTERNAL


def native_message(exc: BaseException) -> str:
    """The useful part of a C++ error from onnx or ONNX Runtime, in one line.

    Their messages can end in an assertion with its ``%s`` placeholders unfilled, or
    repeat a source path: keep the last line that says something, without those.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    text = text.replace("%s", "…")
    if "Assertion" in text or "assert" in text.lower():
        text = f"an internal check failed: {text}"
    return text[-240:]

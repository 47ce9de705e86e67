"""The reference client: speaks exactly what the Unity package speaks.

``ReferenceClient`` streams frames to a bridge server with a stand-in engine
(``ReferenceEngine``: ONNX Runtime where Unity runs Barracuda); ``ControlClient``
reads sessions and statistics from the Control service for the CLI.
"""

from stylebridge.client.control import ControlClient
from stylebridge.client.engine import ReferenceEngine
from stylebridge.client.reference import ReferenceClient
from stylebridge.client.results import ClientRunResult, FrameResult

__all__ = ["ClientRunResult", "ControlClient", "FrameResult", "ReferenceClient", "ReferenceEngine"]

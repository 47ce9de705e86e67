"""The grpc.aio bridge server: sessions, frame streams, Python inference, control API.

Start one with ``BridgeServer`` (an async context manager) or ``run_server`` (the
``stylebridge serve`` command). Layers, one module each: ``convert`` (the only module
touching protobuf), ``sessions``, ``pipeline`` (newest-frame-wins per stream),
``runner`` (the inference thread pool), ``servicer`` and ``control`` (the services),
``interceptors`` (errors -> status codes, token), ``server`` (assembly).
"""

from stylebridge.bridge.server import BridgeServer, grpc_server_options, run_server

__all__ = ["BridgeServer", "grpc_server_options", "run_server"]

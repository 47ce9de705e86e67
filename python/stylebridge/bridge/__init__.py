"""The grpc.aio bridge server: sessions, frame streams, Python inference, control API.

Start one with ``BridgeServer`` (an async context manager) or ``run_server`` (the
``stylebridge serve`` command). One subpackage per flow (shared/DESIGN.md), lowest
first; each imports only those before it (tests/test_layering.py):

* ``core``: frames and sessions as plain data, and the message pieces all flows share;
* ``swaps``: models and swaps (catalog names, registry, watcher, validation, pushes,
  Python following the pushed model);
* ``frames``: frames in and out (the Bridge service, newest-frame-wins pipeline, the
  inference runner, frame conversions, frame rows to the store);
* ``control``: the Control service and recording;
* ``serving``: server assembly (``BridgeServer``, interceptors).

In each flow only its ``convert`` module (and ``core.convert_common``) touches protobuf.
"""

from stylebridge.bridge.serving.server import BridgeServer, grpc_server_options, run_server

__all__ = ["BridgeServer", "grpc_server_options", "run_server"]

"""A bare grpcio bidirectional echo: the baseline the bridge is measured against.

Raw bytes in, the same bytes out, no protobuf, no validation: the least any gRPC
frame stream can cost on this machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc

METHOD = "/stylebridge.bench.Echo/Echo"

# Same message-size options the bridge server uses for 4K RGBA frames.
OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 2**20),
    ("grpc.max_send_message_length", 64 * 2**20),
]


async def _echo(
    requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
) -> AsyncIterator[bytes]:
    async for request in requests:
        yield request


async def serve(port_queue: object) -> None:
    """Serves until cancelled; puts the bound port on ``port_queue``."""
    server = grpc.aio.server(options=OPTIONS)
    handler = grpc.method_handlers_generic_handler(
        "stylebridge.bench.Echo", {"Echo": grpc.stream_stream_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    port_queue.put(port)  # type: ignore[attr-defined]
    try:
        await server.wait_for_termination()
    finally:
        await server.stop(0)


def main(port_queue: object) -> None:
    asyncio.run(serve(port_queue))

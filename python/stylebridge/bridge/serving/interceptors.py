"""Server interceptors: errors to status codes, and the bearer token.

``ErrorInterceptor`` is the one place a ``StyleBridgeError`` becomes a gRPC status
(its ``code`` and message) for all four RPC kinds; anything unexpected is logged once
with its traceback and reported as INTERNAL without leaking internals.
``TokenInterceptor`` refuses calls without the configured ``authorization: Bearer``
token. Both wrap the behaviour of the handler the server found, keeping its kind
(coroutine or async generator) since grpc.aio dispatches on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio

from stylebridge.errors import InvalidInputError, StyleBridgeError, UnauthenticatedError

_log = logging.getLogger(__name__)

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]
# Wraps one behaviour (request-or-iterator, context) -> response(s) into another.
BehaviourWrapper = Callable[[Callable[..., Any], str], Callable[..., Any]]

_FACTORIES = {
    (False, False): ("unary_unary", grpc.unary_unary_rpc_method_handler),
    (False, True): ("unary_stream", grpc.unary_stream_rpc_method_handler),
    (True, False): ("stream_unary", grpc.stream_unary_rpc_method_handler),
    (True, True): ("stream_stream", grpc.stream_stream_rpc_method_handler),
}


def wrap_handler(
    handler: grpc.RpcMethodHandler, method: str, wrapper: BehaviourWrapper
) -> grpc.RpcMethodHandler:
    """The same handler (kind, (de)serializers) with its behaviour wrapped."""
    attribute, factory = _FACTORIES[(handler.request_streaming, handler.response_streaming)]
    behaviour = getattr(handler, attribute)
    return factory(
        wrapper(behaviour, method),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


async def _abort_for(exc: Exception, context: grpc.aio.ServicerContext, method: str) -> None:
    """Abort the RPC with the status an exception stands for (always raises)."""
    if isinstance(exc, StyleBridgeError):
        await context.abort(exc.code, str(exc))
    _log.error("unexpected error in %s", method, exc_info=exc)
    await context.abort(
        grpc.StatusCode.INTERNAL,
        f"internal server error in {method} ({type(exc).__name__}); see the server log",
    )


def _map_errors(behaviour: Callable[..., Any], method: str) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(behaviour):

        async def stream_behaviour(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            try:
                # aclosing: when grpc drops this generator (client gone), the servicer's
                # own generator is closed at once and its clean-up runs.
                async with contextlib.aclosing(behaviour(request, context)) as responses:
                    async for response in responses:
                        yield response
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort_for(exc, context, method)

        return stream_behaviour

    async def unary_behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await behaviour(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort_for(exc, context, method)

    return unary_behaviour


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps StyleBridgeError to its status code; anything else to INTERNAL (logged)."""

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return wrap_handler(handler, handler_call_details.method, _map_errors)


class _RefusalLog:
    """One WARNING per peer host a minute: a client retrying with a wrong token (or a
    scanner) must not flood the log; the rest go to DEBUG and are counted in the next
    warning."""

    def __init__(self, every_s: float = 60.0) -> None:
        self._every_s = every_s
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def log(self, method: str, peer: str) -> None:
        host = peer.rsplit(":", 1)[0]  # "ipv4:10.0.0.5:53412" -> "ipv4:10.0.0.5"
        now = time.monotonic()
        if now - self._last.get(host, -self._every_s) < self._every_s:
            self._quiet[host] = self._quiet.get(host, 0) + 1
            _log.debug("refused %s from %s: missing or wrong token", method, peer)
            return
        if len(self._last) > 4096:  # many hosts: forget the old ones
            self._last.clear()
            self._quiet.clear()
        self._last[host] = now
        quiet = self._quiet.pop(host, 0)
        more = f" ({quiet} more refused from this host in the last minute)" if quiet else ""
        _log.warning("refused %s from %s: missing or wrong token%s", method, peer, more)


_REFUSALS = _RefusalLog()


def _refuse(behaviour: Callable[..., Any], method: str) -> Callable[..., Any]:
    message = (
        f"{method} needs the server's token: send the metadata entry "
        "'authorization: Bearer <token>' (stylebridge client: set STYLEBRIDGE_TOKEN or pass "
        "--token-file)"
    )

    def refuse(context: grpc.aio.ServicerContext) -> UnauthenticatedError:
        # The peer only: never the metadata, which holds whatever token was tried.
        _REFUSALS.log(method, context.peer() or "")
        return UnauthenticatedError(message)

    if inspect.isasyncgenfunction(behaviour):

        async def stream_behaviour(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            raise refuse(context)
            yield  # pragma: no cover - makes this an async generator like the original

        return stream_behaviour

    async def unary_behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
        raise refuse(context)

    return unary_behaviour


def _digest(value: bytes) -> bytes:
    # Comparing fixed-size digests hides the token's length as well as its content.
    return hashlib.sha256(value).digest()


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls whose ``authorization`` metadata is not ``Bearer <token>``.

    Exactly one ``authorization`` entry is accepted (several are refused, after every
    one has been compared, so their number and order leak nothing about the token);
    the scheme is case-insensitive (RFC 7235); the token is compared in constant time.
    Place it after ErrorInterceptor so that the refusal becomes UNAUTHENTICATED.
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise InvalidInputError("TokenInterceptor needs a non-empty token")
        self._expected = _digest(token.encode())

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None or self._authorized(handler_call_details):
            return handler
        return wrap_handler(handler, handler_call_details.method, _refuse)

    def _authorized(self, details: grpc.HandlerCallDetails) -> bool:
        matches = 0
        entries = 0
        for key, value in details.invocation_metadata or ():
            if key.lower() != "authorization":
                continue
            entries += 1
            matches += hmac.compare_digest(_digest(_bearer_token(value)), self._expected)
        return entries == 1 and matches == 1


def _bearer_token(value: str | bytes) -> bytes:
    """The credentials of a ``Bearer`` value; b"" for any other scheme or shape."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "replace")
    scheme, _, credentials = raw.partition(b" ")
    if scheme.lower() != b"bearer":
        return b""
    return credentials

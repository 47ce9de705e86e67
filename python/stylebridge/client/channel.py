"""Opening a channel to a bridge server: options, TLS, and the token as call metadata.

The token travels as ``authorization: Bearer <token>`` metadata on every call (the
server's TokenInterceptor checks it), which works with or without TLS; gRPC's own
call credentials would refuse a plain-text channel. Over plain text to another
machine the token can be read on the network, so that case is logged as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc
import grpc.aio
from pydantic import SecretStr

from stylebridge.config import is_loopback
from stylebridge.credentials import ClientTls

_log = logging.getLogger(__name__)

Metadata = tuple[tuple[str, str], ...]
ChannelOption = tuple[str, int | str]


def auth_metadata(token: SecretStr | str | None) -> Metadata:
    """The ``authorization: Bearer`` entry to send with each call; () without a token."""
    if token is None:
        return ()
    value = token.get_secret_value() if isinstance(token, SecretStr) else token
    return (("authorization", f"Bearer {value}"),) if value else ()


def target_host(target: str) -> str:
    """The host part of ``host:port`` (IPv6 literals in brackets)."""
    if target.startswith("["):
        return target[1 : target.find("]")] if "]" in target else target
    host, _, _ = target.rpartition(":")
    return host or target


def open_channel(
    target: str,
    *,
    options: Sequence[ChannelOption] = (),
    token: SecretStr | str | None = None,
    tls: ClientTls | None = None,
) -> grpc.aio.Channel:
    """A grpc.aio channel to ``target``: TLS when ``tls`` is given, plain text otherwise.

    ``token`` is not attached to the channel (send ``auth_metadata(token)`` with each
    call); it is only used to warn when it would cross the network unencrypted.
    """
    if tls is None:
        if token is not None and not is_loopback(target_host(target)):
            _log.warning(
                "sending the token to %s without TLS: it travels in clear text; "
                "use --tls-ca (and a server started with --tls-cert/--tls-key)",
                target,
            )
        return grpc.aio.insecure_channel(target, options=list(options))
    credentials = grpc.ssl_channel_credentials(root_certificates=tls.root_certificates)
    return grpc.aio.secure_channel(target, credentials, options=list(options))

"""Security of the bridge (issue 7, item 6): binding, token, TLS, every RPC guarded.

Real servers on loopback with real clients; certificates are made at test time with
``cryptography`` (tests/security_helpers.py).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import pkgutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import grpc
import grpc.aio
import pytest
from bridge_helpers import (
    CHANNEL_OPTIONS,
    frame_up,
    hello_request,
    random_frame,
    running_server,
    server_config,
    stubs,
)
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from pydantic import SecretStr
from security_helpers import TOKEN, make_cert
from typer.testing import CliRunner

import stylebridge.v1
from stylebridge.bridge import BridgeServer
from stylebridge.bridge.serving.interceptors import TokenInterceptor
from stylebridge.cli import app
from stylebridge.client import ControlClient, ReferenceClient
from stylebridge.client.channel import auth_metadata, open_channel, target_host
from stylebridge.commands import doctor as doctor_command
from stylebridge.commands import serve as serve_command
from stylebridge.config import ClientConfig, ServerConfig
from stylebridge.credentials import (
    TOKEN_ENV,
    ClientTls,
    ServerTls,
    TokenSource,
    load_server_tls,
    resolve_token,
)
from stylebridge.errors import InvalidInputError
from stylebridge.v1 import control_pb2

GOOD = (("authorization", f"Bearer {TOKEN}"),)


# --- where the server listens, and the token's rules ----------------------------------


def test_servers_listen_on_loopback_unless_told_otherwise() -> None:
    assert ServerConfig().host == "127.0.0.1"
    for command in (serve_command.serve, doctor_command.doctor):
        assert inspect.signature(command).parameters["host"].default == "127.0.0.1"


def test_exposed_host_needs_a_long_enough_token() -> None:
    with pytest.raises(InvalidInputError, match="without a token"):
        ServerConfig(host="0.0.0.0")
    with pytest.raises(InvalidInputError, match=r"at least 16.*secrets\.token_urlsafe"):
        ServerConfig(host="0.0.0.0", token="short-token")
    assert ServerConfig(host="0.0.0.0", token=TOKEN).exposed
    # On loopback a short token is the user's choice; an unusable one never is.
    assert not ServerConfig(token="short").exposed
    for bad in ("", "   ", "has space", "naïve-token-0123456789", " padded-token-0123456789 "):
        with pytest.raises(InvalidInputError):
            ServerConfig(token=bad)


def test_token_comes_from_a_file_or_the_environment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert resolve_token(environ={}) is None
    from_env = resolve_token(environ={TOKEN_ENV: f" {TOKEN}\n"})
    assert from_env is not None and from_env.source is TokenSource.ENVIRONMENT
    assert from_env.value.get_secret_value() == TOKEN
    assert "32 characters" in from_env.describe() and TOKEN not in from_env.describe()

    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\nsecond line is ignored\n")
    token_file.chmod(0o600)
    from_file = resolve_token(token_file=token_file, environ={TOKEN_ENV: "other-token"})
    assert from_file is not None and from_file.source is TokenSource.FILE
    assert from_file.value.get_secret_value() == TOKEN
    assert not caplog.records

    token_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="stylebridge.credentials"):
        resolve_token(token_file=token_file, environ={})
    assert any("chmod 600" in r.getMessage() for r in caplog.records)

    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(InvalidInputError, match=r"empty.*token_urlsafe"):
        resolve_token(token_file=empty, environ={})
    with pytest.raises(InvalidInputError, match="missing-file"):
        resolve_token(token_file=tmp_path / "missing-file", environ={})
    with pytest.raises(InvalidInputError, match="not both"):
        resolve_token(argument=TOKEN, token_file=token_file, environ={})
    with pytest.raises(InvalidInputError, match=TOKEN_ENV):
        resolve_token(environ={TOKEN_ENV: ""})


def test_token_appears_in_no_repr_or_dump(tmp_path: Path) -> None:
    files = make_cert(tmp_path / "tls")
    config = server_config(tmp_path, token=TOKEN, tls=ServerTls.load(files.cert, files.key))
    client = ClientConfig(token=TOKEN, tls=ClientTls.load(files.cert))
    key_line = files.key.read_text().splitlines()[1]
    for text in (repr(config), str(config), config.model_dump_json(), repr(client), str(client)):
        assert TOKEN not in text
        assert key_line not in text and "PRIVATE KEY" not in text
    assert TOKEN not in client.model_dump_json()


# --- TLS files ---------------------------------------------------------------------------


def test_tls_files_are_checked_when_the_config_is_built(tmp_path: Path) -> None:
    good = make_cert(tmp_path, "good")
    other = make_cert(tmp_path, "other")
    locked = make_cert(tmp_path, "locked", encrypt_key=True)
    assert load_server_tls(None, None) is None
    with pytest.raises(InvalidInputError, match="--tls-key is missing"):
        load_server_tls(good.cert, None)
    with pytest.raises(InvalidInputError, match="--tls-cert is missing"):
        load_server_tls(None, good.key)
    with pytest.raises(InvalidInputError, match=r"nope\.crt does not exist"):
        load_server_tls(tmp_path / "nope.crt", good.key)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(InvalidInputError, match=r"not\.pem is not a PEM file"):
        load_server_tls(good.cert, not_pem)
    with pytest.raises(InvalidInputError, match=r"other\.key does not belong to the certificate"):
        load_server_tls(good.cert, other.key)
    with pytest.raises(InvalidInputError, match=r"locked\.key cannot be used.*unencrypted"):
        load_server_tls(locked.cert, locked.key)
    with pytest.raises(InvalidInputError, match=r"not\.pem is not a PEM file"):
        ClientTls.load(not_pem)
    tls = load_server_tls(good.cert, good.key)
    assert tls is not None and tls.certificate_chain == good.cert.read_bytes()


def test_serve_refuses_bad_security_options_before_starting(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "s.sqlite")
    exposed = runner.invoke(
        app, ["serve", "--host", "0.0.0.0", "--store", store], env={TOKEN_ENV: None}
    )
    assert isinstance(exposed.exception, InvalidInputError)
    assert "without a token" in str(exposed.exception)
    half_tls = runner.invoke(
        app, ["serve", "--store", store, "--tls-cert", str(tmp_path / "c.pem")]
    )
    assert isinstance(half_tls.exception, InvalidInputError)
    assert not (tmp_path / "s.sqlite").exists()


# --- every RPC needs the token ---------------------------------------------------------


def _all_methods() -> Iterator[MethodDescriptor]:
    """Every RPC of every service generated under stylebridge.v1 (new ones included)."""
    for info in pkgutil.iter_modules(stylebridge.v1.__path__):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(f"stylebridge.v1.{info.name}")
            for service in module.DESCRIPTOR.services_by_name.values():
                yield from service.methods


def _request(method: MethodDescriptor) -> Any:
    """A request the method would act on if it were let through."""
    if method.name == "Hello":
        return hello_request()
    if method.name == "Frames":
        return frame_up(1, random_frame())
    return message_factory.GetMessageClass(method.input_type)()


async def _call(
    channel: grpc.aio.Channel, method: MethodDescriptor, metadata: tuple[Any, ...]
) -> grpc.StatusCode:
    """Call ``method`` with ``metadata``; the status it ends with."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    request = _request(method)
    serialize = type(request).SerializeToString
    parse = message_factory.GetMessageClass(method.output_type).FromString
    kwargs: dict[str, Any] = {"request_serializer": serialize, "response_deserializer": parse}
    # Streaming calls send no message: the token is judged before any is read, and
    # grpcio's aio client (1.85) replaces the server's status with INTERNAL "Internal error
    # from Core" when a write loses the race with the server's early end (grpc/grpc#36066).
    try:
        if method.client_streaming and method.server_streaming:
            call = channel.stream_stream(path, **kwargs)(
                iter([]), metadata=metadata, timeout=5
            )
            async for _ in call:
                pass
        elif method.client_streaming:
            await channel.stream_unary(path, **kwargs)(
                iter([]), metadata=metadata, timeout=5
            )
        elif method.server_streaming:
            call = channel.unary_stream(path, **kwargs)(request, metadata=metadata, timeout=5)
            async for _ in call:
                pass
        else:
            await channel.unary_unary(path, **kwargs)(request, metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


_REFUSED_METADATA = {
    "no token": (),
    "wrong token": (("authorization", f"Bearer {TOKEN[:-1]}x"),),
    "token without scheme": (("authorization", TOKEN),),
    "basic scheme": (("authorization", f"Basic {TOKEN}"),),
    "token as another key": (("x-token", f"Bearer {TOKEN}"),),
    "good and wrong": (*GOOD, ("authorization", "Bearer wrong")),
    "wrong and good": (("authorization", "Bearer wrong"), *GOOD),
    "good twice": (*GOOD, *GOOD),
}


async def test_every_rpc_is_refused_without_a_valid_token(tmp_path: Path) -> None:
    methods = list(_all_methods())
    names = {f"{m.containing_service.name}/{m.name}" for m in methods}
    assert {"Bridge/Hello", "Bridge/Frames", "Bridge/Models", "Bridge/AckModel"} <= names
    assert {
        f"Control/{m.name}" for m in control_pb2.DESCRIPTOR.services_by_name["Control"].methods
    } <= names
    store = tmp_path / "store.sqlite"
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    async with (
        running_server(tmp_path, token=TOKEN, catalog=catalog) as server,
        grpc.aio.insecure_channel(server.address, options=CHANNEL_OPTIONS) as channel,
    ):
        for method in methods:
            for label, metadata in _REFUSED_METADATA.items():
                code = await _call(channel, method, metadata)
                assert code is grpc.StatusCode.UNAUTHENTICATED, (method.full_name, label)
        assert list(server.sessions) == []
        # The same server lets a valid token through (scheme case-insensitive).
        bridge_hello = next(m for m in methods if m.name == "Hello")
        assert await _call(channel, bridge_hello, GOOD) is grpc.StatusCode.OK
        lower = (("authorization", f"bearer {TOKEN}"),)
        assert await _call(channel, bridge_hello, lower) is grpc.StatusCode.OK
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM frames").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM swaps").fetchone()[0] == 0


class _Details(NamedTuple):
    method: str
    invocation_metadata: tuple[tuple[str, str | bytes], ...]


@pytest.mark.parametrize(
    ("metadata", "allowed"),
    [
        (GOOD, True),
        ((("authorization", f"BEARER {TOKEN}".encode()),), True),
        ((("authorization", f"Bearer {TOKEN}\u00e9"),), False),
        ((("authorization", "Bearer \udcff\u00ff"),), False),
        ((("authorization", b"Bearer \xff\xfe"),), False),
        ((("authorization", "Bearer"),), False),
        ((("authorization", f"Bearer  {TOKEN}"),), False),
        ((), False),
    ],
)
async def test_token_interceptor_on_odd_metadata(
    metadata: tuple[tuple[str, str | bytes], ...], allowed: bool
) -> None:
    async def behaviour(request: Any, context: Any) -> Any:
        return request

    handler = grpc.unary_unary_rpc_method_handler(behaviour)

    async def continuation(details: Any) -> grpc.RpcMethodHandler:
        return handler

    interceptor = TokenInterceptor(TOKEN)
    result = await interceptor.intercept_service(
        continuation, _Details("/stylebridge.v1.Bridge/Hello", metadata)
    )
    assert (result is handler) is allowed
    with pytest.raises(InvalidInputError):
        TokenInterceptor("")


# --- the token is never logged ---------------------------------------------------------


async def test_token_is_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        running_server(tmp_path, token=TOKEN) as server,
        stubs(server) as (bridge, control),
    ):
        with pytest.raises(grpc.aio.AioRpcError):
            await bridge.Hello(hello_request(), metadata=(("authorization", f"Bearer {TOKEN}x"),))
        with pytest.raises(grpc.aio.AioRpcError):
            await control.ListSessions(control_pb2.ListSessionsRequest())
        hello = await bridge.Hello(hello_request(), metadata=GOOD)
        await control.ListSessions(control_pb2.ListSessionsRequest(), metadata=GOOD)
        # The client side logs too (here: nothing to warn about on loopback).
        async with ControlClient(server.address, token=TOKEN) as client:
            assert [s.session_id for s in await client.list_sessions()] == [hello.session_id]
    assert any("refused" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = " ".join((record.getMessage(), repr(record.args), record.exc_text or ""))
        assert TOKEN not in text, record


# --- TLS end to end --------------------------------------------------------------------


async def test_tls_server_with_token_and_a_real_client(tmp_path: Path) -> None:
    files = make_cert(tmp_path / "tls")
    stranger = make_cert(tmp_path / "stranger")
    tls = ServerTls.load(files.cert, files.key)
    trusted = ClientTls.load(files.cert)
    async with running_server(tmp_path, token=TOKEN, tls=tls) as server:
        port = server.port
        # TLS + good token: the reference client streams, the control client lists.
        config = ClientConfig(
            server=server.address,
            token=TOKEN,
            tls=trusted,
            fps=0,
            size=(32, 18),
            connect_timeout_s=5,
        )
        async with ReferenceClient(config) as client:
            result = await client.run(3)
        assert result.answered == 3
        async with ControlClient(f"localhost:{port}", token=TOKEN, tls=trusted) as control:
            assert [s.session_id for s in await control.list_sessions()] == [result.session_id]

        async def hello_code(channel: grpc.aio.Channel, metadata: Any = GOOD) -> grpc.StatusCode:
            hello = next(m for m in _all_methods() if m.name == "Hello")
            async with channel:
                return await _call(channel, hello, metadata)

        assert await hello_code(open_channel(server.address, tls=trusted)) is grpc.StatusCode.OK
        # TLS without the token: still refused.
        no_token = open_channel(server.address, tls=trusted)
        assert await hello_code(no_token, ()) is grpc.StatusCode.UNAUTHENTICATED
        # A plain-text client and a client trusting another certificate never get in.
        plain = open_channel(server.address)
        assert await hello_code(plain) is grpc.StatusCode.UNAVAILABLE
        wrong_ca = open_channel(server.address, tls=ClientTls.load(stranger.cert))
        assert await hello_code(wrong_ca) is grpc.StatusCode.UNAVAILABLE


async def test_exposed_server_without_tls_warns_and_refuses_strangers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = server_config(tmp_path, host="0.0.0.0", token=TOKEN)
    async with BridgeServer(config) as server:
        assert server.address.startswith("0.0.0.0:")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            hello = next(m for m in _all_methods() if m.name == "Hello")
            assert await _call(channel, hello, ()) is grpc.StatusCode.UNAUTHENTICATED
            assert await _call(channel, hello, GOOD) is grpc.StatusCode.OK
    assert any("clear text" in r.getMessage() for r in caplog.records)


async def test_client_channel_helpers(caplog: pytest.LogCaptureFixture) -> None:
    assert auth_metadata(None) == () and auth_metadata("") == ()
    assert auth_metadata(SecretStr(TOKEN)) == GOOD
    assert target_host("[::1]:50051") == "::1"
    assert target_host("example.org:50051") == "example.org"
    with caplog.at_level(logging.WARNING, logger="stylebridge.client.channel"):
        await open_channel("127.0.0.1:1", token=TOKEN).close()
        assert not caplog.records
        await open_channel("192.0.2.1:1", token=TOKEN).close()
    assert any("clear text" in r.getMessage() for r in caplog.records)
    assert os.environ.get(TOKEN_ENV) != TOKEN


def test_refusals_are_logged_once_a_minute_per_host(caplog: pytest.LogCaptureFixture) -> None:
    from stylebridge.bridge.serving.interceptors import _RefusalLog

    refusals = _RefusalLog(every_s=60.0)
    with caplog.at_level(logging.DEBUG, logger="stylebridge.bridge.serving.interceptors"):
        for port in range(50):
            refusals.log("/stylebridge.v1.Bridge/Hello", f"ipv4:10.0.0.5:{40000 + port}")
        refusals.log("/stylebridge.v1.Bridge/Hello", "ipv4:10.0.0.6:40000")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "10.0.0.5" in warnings[0] and "10.0.0.6" in warnings[1]
    assert sum(r.levelno == logging.DEBUG for r in caplog.records) == 49

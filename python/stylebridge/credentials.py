"""Where the bridge's secrets come from: the bearer token and the TLS files.

A token reaches the server from the environment (``STYLEBRIDGE_TOKEN``) or a file
(``--token-file``), rarely from the command line (visible to other local users in
``ps``). It is checked here once: not empty, printable ASCII (it travels as gRPC
metadata), and long enough when the server is reachable from other machines. TLS
certificate and key are read and checked (they parse, they match) when the config is
built, so a wrong file fails at once with its name instead of at the first client.
Nothing here ever logs or formats a token's value.
"""

from __future__ import annotations

import enum
import logging
import os
import ssl
import stat
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr

from stylebridge.errors import InvalidInputError

_log = logging.getLogger(__name__)

TOKEN_ENV = "STYLEBRIDGE_TOKEN"
# A token guessable by brute force is no protection for a port the network can reach.
MIN_EXPOSED_TOKEN_CHARS = 16
GENERATE_TOKEN_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class TokenSource(enum.Enum):
    """Where a token came from (shown instead of the token itself)."""

    ENVIRONMENT = "environment"
    FILE = "file"
    ARGUMENT = "argument"


class Token(BaseModel):
    """A checked token and where it came from; its value never appears in repr or dumps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: SecretStr
    source: TokenSource
    path: Path | None = None

    def describe(self) -> str:
        """Where the token came from and its length, e.g. for ``serve`` and ``doctor``."""
        origin = {
            TokenSource.ENVIRONMENT: f"from {TOKEN_ENV}",
            TokenSource.FILE: f"from the file {self.path}",
            TokenSource.ARGUMENT: "from --token (visible to other local users in `ps`)",
        }[self.source]
        return f"{origin}, {len(self.value.get_secret_value())} characters; never printed"


def check_token_text(text: str, where: str) -> str:
    """The token stripped of surrounding whitespace; InvalidInputError when unusable."""
    token = text.strip()
    if not token:
        raise InvalidInputError(
            f"the token {where} is empty; generate one with {GENERATE_TOKEN_HINT}"
        )
    if not all(0x21 <= ord(c) <= 0x7E for c in token):
        raise InvalidInputError(
            f"the token {where} contains spaces, control or non-ASCII characters, which cannot "
            f"travel in gRPC metadata; generate one with {GENERATE_TOKEN_HINT}"
        )
    return token


def check_exposed_token_length(token: str) -> None:
    """InvalidInputError when ``token`` is too short to guard a network-reachable port."""
    if len(token) < MIN_EXPOSED_TOKEN_CHARS:
        raise InvalidInputError(
            f"the token has {len(token)} characters; a server reachable from other machines "
            f"needs at least {MIN_EXPOSED_TOKEN_CHARS}: generate one with {GENERATE_TOKEN_HINT}"
        )


def token_file_is_open(path: Path) -> bool:
    """True when users other than the owner may read ``path`` (POSIX permissions)."""
    if os.name != "posix":
        return False
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))


def read_token_file(path: Path) -> SecretStr:
    """The first line of ``path``, stripped; warns when others may read the file."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except FileNotFoundError as exc:
        raise InvalidInputError(f"token file {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(f"token file {path} is a folder; pass the file") from exc
    except PermissionError as exc:
        raise InvalidInputError(f"token file {path} cannot be read: permission denied") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"token file {path} is not text; write the token on one line"
        ) from exc
    except OSError as exc:
        raise InvalidInputError(f"token file {path} cannot be read: {exc.strerror}") from exc
    token = check_token_text(first, f"in {path}")
    if token_file_is_open(path):
        _log.warning(
            "token file %s can be read by other users; restrict it with `chmod 600 %s`",
            path,
            path,
        )
    return SecretStr(token)


def resolve_token(
    *,
    argument: str | None = None,
    token_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Token | None:
    """The token from ``--token-file``, ``--token`` or ``STYLEBRIDGE_TOKEN``, in that order.

    A file or argument given explicitly wins over the environment; both a file and an
    argument is a mistake (InvalidInputError). None when there is no token at all.
    """
    env = os.environ if environ is None else environ
    if token_file is not None and argument is not None:
        raise InvalidInputError("pass either --token-file or --token, not both")
    if token_file is not None:
        return Token(value=read_token_file(token_file), source=TokenSource.FILE, path=token_file)
    if argument is not None:
        value = check_token_text(argument, "given with --token")
        return Token(value=SecretStr(value), source=TokenSource.ARGUMENT)
    if env.get(TOKEN_ENV) is not None:
        value = check_token_text(env[TOKEN_ENV], f"in {TOKEN_ENV}")
        return Token(value=SecretStr(value), source=TokenSource.ENVIRONMENT)
    return None


def _read_pem(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInputError(f"TLS {what} {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(f"TLS {what} {path} is a folder; pass the PEM file") from exc
    except PermissionError as exc:
        raise InvalidInputError(f"TLS {what} {path} cannot be read: permission denied") from exc
    except OSError as exc:
        raise InvalidInputError(f"TLS {what} {path} cannot be read: {exc.strerror}") from exc
    if b"-----BEGIN" not in data:
        raise InvalidInputError(f"TLS {what} {path} is not a PEM file (no '-----BEGIN' line)")
    return data


def _no_password() -> bytes:
    # gRPC cannot use an encrypted key; never let OpenSSL prompt on the terminal.
    return b""


def _check_pair(cert: Path, key: Path, cert_pem: bytes) -> None:
    """InvalidInputError unless the certificate parses and the key is its unencrypted key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cadata=cert_pem.decode("ascii", "replace"))
    except ssl.SSLError as exc:
        raise InvalidInputError(f"TLS certificate {cert} cannot be parsed: {exc.reason}") from exc
    try:
        context.load_cert_chain(cert, key, password=_no_password)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        if "MISMATCH" in reason.upper():
            raise InvalidInputError(
                f"TLS key {key} does not belong to the certificate {cert}; pass the key "
                "generated with that certificate"
            ) from exc
        raise InvalidInputError(
            f"TLS key {key} cannot be used with {cert} ({reason}); it must be an "
            "unencrypted PEM private key"
        ) from exc


class ServerTls(BaseModel):
    """The server's certificate chain and private key, read and checked once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cert: Path
    key: Path
    certificate_chain: bytes = Field(repr=False)
    private_key: SecretBytes

    @classmethod
    def load(cls, cert: Path, key: Path) -> ServerTls:
        """Read both PEM files; InvalidInputError naming the file that is wrong."""
        cert_pem = _read_pem(cert, "certificate")
        key_pem = _read_pem(key, "key")
        _check_pair(cert, key, cert_pem)
        return cls(cert=cert, key=key, certificate_chain=cert_pem, private_key=SecretBytes(key_pem))


def load_server_tls(cert: Path | None, key: Path | None) -> ServerTls | None:
    """TLS from ``--tls-cert``/``--tls-key``: both or neither."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "--tls-cert" if cert is None else "--tls-key"
        raise InvalidInputError(f"TLS needs both --tls-cert and --tls-key; {missing} is missing")
    return ServerTls.load(cert, key)


class ClientTls(BaseModel):
    """TLS on the client: the root certificates to trust, or None for the system's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca: Path | None = None
    root_certificates: bytes | None = Field(default=None, repr=False)

    @classmethod
    def load(cls, ca: Path | None) -> ClientTls:
        """Trust the PEM root(s) in ``ca`` (a self-signed server certificate works too)."""
        if ca is None:
            return cls()
        pem = _read_pem(ca, "CA certificate")
        try:
            ssl.create_default_context(cadata=pem.decode("ascii", "replace"))
        except ssl.SSLError as exc:
            raise InvalidInputError(
                f"TLS CA certificate {ca} cannot be parsed: {exc.reason}"
            ) from exc
        return cls(ca=ca, root_certificates=pem)

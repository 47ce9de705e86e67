"""Options shared by the commands that connect to a server: token and TLS.

Not a command module (cli.py does not list it); ``client``, ``sessions``, ``swap``,
``models`` and ``record`` take these options and turn them into credentials here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pydantic import SecretStr

    from stylebridge.client import ControlClient
    from stylebridge.credentials import ClientTls

TokenOption = Annotated[
    str | None,
    typer.Option(
        help="The server's token. Visible to other local users (ps) and kept in shell "
        "history: prefer the STYLEBRIDGE_TOKEN environment variable or --token-file.",
        show_default=False,
    ),
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        help="File whose first line is the server's token (else STYLEBRIDGE_TOKEN).",
        show_default=False,
    ),
]
TlsCaOption = Annotated[
    Path | None,
    typer.Option(
        help="Speak TLS, trusting this PEM root certificate (or the server's self-signed one).",
        show_default=False,
    ),
]
TlsOption = Annotated[
    bool,
    typer.Option("--tls", help="Speak TLS, trusting the system's root certificates."),
]


def client_credentials(
    token: str | None, token_file: Path | None, tls_ca: Path | None, tls: bool
) -> tuple[SecretStr | None, ClientTls | None]:
    """The token (from file, argument or STYLEBRIDGE_TOKEN) and TLS settings to connect with."""
    from stylebridge.credentials import ClientTls, resolve_token

    resolved = resolve_token(argument=token, token_file=token_file)
    client_tls = ClientTls.load(tls_ca) if tls or tls_ca is not None else None
    return (resolved.value if resolved is not None else None), client_tls


@dataclass(frozen=True)
class Connection:
    """Where a command connects and with which credentials."""

    server: str
    token: SecretStr | None = None
    tls: ClientTls | None = None

    @classmethod
    def from_options(
        cls,
        server: str,
        token: str | None,
        token_file: Path | None,
        tls_ca: Path | None,
        tls: bool,
    ) -> Connection:
        secret, client_tls = client_credentials(token, token_file, tls_ca, tls)
        return cls(server=server, token=secret, tls=client_tls)

    def control(self) -> ControlClient:
        """A ControlClient for this connection (use ``async with``)."""
        from stylebridge.client import ControlClient

        return ControlClient(self.server, token=self.token, tls=self.tls)

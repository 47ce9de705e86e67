"""``stylebridge doctor``: what a server configuration exposes, in plain words, and checks.

Runs without a server and without the network: it reads the same options ``serve``
takes and reports who could connect, whether a token guards the port (never printing
it), whether TLS protects the token and frames, and whether the port, store, catalog,
token file, certificate and libraries are usable. Nothing is modified: the store is
only inspected, the port is bound for an instant and released.
"""

from __future__ import annotations

import datetime as dt
import enum
import errno
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from stylebridge.config import DEFAULT_PORT, DEFAULT_STORE, format_address, is_loopback
from stylebridge.credentials import (
    TOKEN_ENV,
    ServerTls,
    Token,
    check_exposed_token_length,
    load_server_tls,
    resolve_token,
    token_file_is_open,
)
from stylebridge.errors import InvalidInputError
from stylebridge.store.location import StoreLocation

# A certificate expiring sooner than this is worth renewing now.
_EXPIRY_WARNING = dt.timedelta(days=30)
_SQLITE_HEADER = b"SQLite format 3\x00"
_LIBRARIES = ("torch", "onnxruntime", "grpcio", "cryptography")


class Severity(enum.Enum):
    """How a finding weighs: FAIL makes ``doctor`` exit non-zero."""

    OK = "ok"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"


class Check(enum.Enum):
    """What a finding is about."""

    EXPOSURE = "exposure"
    TOKEN = "token"
    TLS = "tls"
    PORT = "port"
    STORE = "store"
    CATALOG = "catalog"
    LIBRARIES = "libraries"


@dataclass(frozen=True)
class Finding:
    check: Check
    severity: Severity
    message: str


@dataclass(frozen=True)
class DoctorOptions:
    """The options ``serve`` would get (token from ``token_file`` or the environment)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    catalog: Path | None = None
    # An SQLite path, or a StoreLocation (a postgresql:// URL and its password).
    store: Path | StoreLocation = DEFAULT_STORE
    # None reads os.environ; tests pass their own.
    environ: Mapping[str, str] | None = None


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        return any(f.severity is Severity.FAIL for f in self.findings)

    def about(self, check: Check) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.check is check)

    def summary(self) -> str:
        """The exposure, token and TLS findings as one paragraph."""
        wanted = (Check.EXPOSURE, Check.TOKEN, Check.TLS)
        return " ".join(f.message for f in self.findings if f.check in wanted)


def diagnose(options: DoctorOptions) -> DoctorReport:
    """Every finding about ``options``; never raises for a bad configuration."""
    exposed = not is_loopback(options.host)
    findings = [
        exposure_finding(options.host, options.port),
        *token_findings(options, exposed),
        *tls_findings(options.tls_cert, options.tls_key, exposed),
        port_finding(options.host, options.port),
        store_finding(options.store),
        catalog_finding(options.catalog),
        libraries_finding(),
    ]
    return DoctorReport(tuple(findings))


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def exposure_finding(host: str, port: int) -> Finding:
    """Who can connect to ``host:port``."""
    address = format_address(host, port)
    if is_loopback(host):
        text = f"Listens on {address}: only programs on this machine can connect."
    elif _is_wildcard(host):
        text = (
            f"Listens on {address} (every network interface): reachable from other "
            "machines on your network."
        )
    else:
        text = f"Listens on {address}: reachable from other machines that can reach {host}."
    return Finding(Check.EXPOSURE, Severity.INFO, text)


def token_findings(options: DoctorOptions, exposed: bool) -> list[Finding]:
    """Whether a token guards the port, where it comes from, how its file is protected."""
    try:
        token = resolve_token(token_file=options.token_file, environ=options.environ)
    except InvalidInputError as exc:
        return [Finding(Check.TOKEN, Severity.FAIL, f"The token cannot be used: {exc}.")]
    if token is None:
        if exposed:
            return [
                Finding(
                    Check.TOKEN,
                    Severity.FAIL,
                    "No token: `serve` refuses to listen here without one; set "
                    f"{TOKEN_ENV} or pass --token-file (or listen on 127.0.0.1).",
                )
            ]
        return [
            Finding(
                Check.TOKEN,
                Severity.INFO,
                "No token: any program on this machine can connect (fine on a developer "
                f"machine; set {TOKEN_ENV} or --token-file to require one).",
            )
        ]
    findings = [Finding(Check.TOKEN, Severity.OK, f"A token is required ({token.describe()}).")]
    if exposed:
        try:
            check_exposed_token_length(token.value.get_secret_value())
        except InvalidInputError as exc:
            findings.append(Finding(Check.TOKEN, Severity.FAIL, _sentence(exc)))
    findings.extend(_token_file_findings(token))
    return findings


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


def _token_file_findings(token: Token) -> list[Finding]:
    if token.path is None or not token_file_is_open(token.path):
        return []
    return [
        Finding(
            Check.TOKEN,
            Severity.WARN,
            f"The token file {token.path} can be read by other users of this machine; "
            f"restrict it: chmod 600 {token.path}.",
        )
    ]


def tls_findings(cert: Path | None, key: Path | None, exposed: bool) -> list[Finding]:
    """Whether TLS is on, and whether the certificate and key load, match and are valid."""
    try:
        tls = load_server_tls(cert, key)
    except InvalidInputError as exc:
        return [Finding(Check.TLS, Severity.FAIL, f"TLS cannot be used: {exc}.")]
    if tls is None:
        if exposed:
            text = (
                "TLS is off: the token and frames travel in clear text; add --tls-cert/--tls-key."
            )
            return [Finding(Check.TLS, Severity.WARN, text)]
        return [Finding(Check.TLS, Severity.INFO, "TLS is off (traffic stays on this machine).")]
    return _certificate_findings(tls)


def _certificate_findings(tls: ServerTls) -> list[Finding]:
    try:
        from cryptography import x509
    except ImportError:
        return [
            Finding(
                Check.TLS,
                Severity.OK,
                f"TLS is on: {tls.cert} and its key load and match (install `cryptography` "
                "to see the expiry date).",
            )
        ]
    certificate = x509.load_pem_x509_certificate(tls.certificate_chain)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        covers = [str(n.value) for n in names]
    except x509.ExtensionNotFound:
        covers = []
    now = dt.datetime.now(dt.UTC)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    described = (
        f"TLS is on: {tls.cert} ({certificate.subject.rfc4514_string()}; names: "
        f"{', '.join(covers) or 'none'}) and its key load and match; valid until "
        f"{end:%Y-%m-%d}."
    )
    if now > end:
        return [Finding(Check.TLS, Severity.FAIL, f"{described} It has EXPIRED: renew it.")]
    if now < start:
        return [Finding(Check.TLS, Severity.FAIL, f"{described} It is not valid before {start}.")]
    if end - now < _EXPIRY_WARNING:
        return [Finding(Check.TLS, Severity.WARN, f"{described} It expires soon: renew it.")]
    return [Finding(Check.TLS, Severity.OK, described)]


def port_finding(host: str, port: int) -> Finding:
    """Whether ``host:port`` can be bound now (bound for an instant, then released)."""
    address = format_address(host, port)
    if port == 0:
        return Finding(Check.PORT, Severity.INFO, "Port 0: a free port is picked at start.")
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        return Finding(Check.PORT, Severity.FAIL, f"{host!r} is not a known address: {exc}.")
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            return _bind_failure(address, exc)
    return Finding(Check.PORT, Severity.OK, f"Port {port} is free on {host}.")


def _bind_failure(address: str, exc: OSError) -> Finding:
    if exc.errno == errno.EADDRINUSE:
        return Finding(
            Check.PORT,
            Severity.WARN,
            f"{address} is in use: a bridge may already be running there, or pick another --port.",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return Finding(Check.PORT, Severity.FAIL, f"{address} is not an address of this machine.")
    if exc.errno == errno.EACCES:
        return Finding(
            Check.PORT, Severity.FAIL, f"{address} needs privileges; pick a port above 1023."
        )
    return Finding(Check.PORT, Severity.FAIL, f"cannot listen on {address}: {exc.strerror}.")


def store_finding(store: Path | StoreLocation) -> Finding:
    """Whether the store can be written, inspecting an existing one without touching it."""
    if isinstance(store, StoreLocation):
        if store.is_postgres:
            return postgres_store_finding(store)
        store = Path(store.target)
    if store.exists():
        if not store.is_file():
            return Finding(Check.STORE, Severity.FAIL, f"The store {store} is not a file.")
        try:
            with store.open("rb") as handle:
                header = handle.read(len(_SQLITE_HEADER))
        except OSError as exc:
            return Finding(
                Check.STORE, Severity.FAIL, f"The store {store} cannot be read: {exc.strerror}."
            )
        if header and header != _SQLITE_HEADER:
            return Finding(
                Check.STORE,
                Severity.FAIL,
                f"The store {store} is not an SQLite file; pass another --store.",
            )
        # SQLite in WAL mode writes -wal and -shm files beside the store.
        if not os.access(store, os.W_OK) or not os.access(store.parent, os.W_OK):
            return Finding(
                Check.STORE,
                Severity.FAIL,
                f"The store {store} or its folder is not writable; sessions could not be recorded.",
            )
        return Finding(Check.STORE, Severity.OK, f"The store {store} exists and is writable.")
    folder = store.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
        return Finding(Check.STORE, Severity.OK, f"The store {store} will be created.")
    return Finding(
        Check.STORE,
        Severity.FAIL,
        f"The store {store} cannot be created: {folder} is not a writable folder.",
    )


def postgres_store_finding(location: StoreLocation) -> Finding:
    """Whether a PostgreSQL store answers and at which schema version; names where the
    password came from, never the password."""
    from stylebridge.errors import StoreError
    from stylebridge.store import SCHEMA_VERSION, postgres

    source = location.password_source
    try:
        conn = postgres.connect(location)
    except StoreError as exc:
        return Finding(Check.STORE, Severity.FAIL, f"{exc} (password from {source}).")
    try:
        version = conn.server_version()
        row = conn.execute("SELECT to_regclass('stylebridge_schema') IS NOT NULL").fetchone()
        found = 0
        if row and row[0]:
            found = int(conn.execute("SELECT max(version) FROM stylebridge_schema").fetchone()[0])
        writable = conn.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE')"
        ).fetchone()[0]
    except postgres.Error as exc:
        return Finding(
            Check.STORE, Severity.FAIL, f"The store {location.where} answered but: {exc}."
        )
    finally:
        conn.close()
    where = f"The PostgreSQL store {location.where} (server {version}, password from {source})"
    if found > SCHEMA_VERSION:
        return Finding(
            Check.STORE,
            Severity.FAIL,
            f"{where} has schema version {found}, newer than this StyleBridge ({SCHEMA_VERSION}).",
        )
    if found == 0 and not writable:
        return Finding(
            Check.STORE, Severity.FAIL, f"{where} has no schema and its user may not create one."
        )
    state = (
        f"is at schema version {found}"
        if found == SCHEMA_VERSION
        else f"will be migrated from version {found} to {SCHEMA_VERSION}"
    )
    return Finding(Check.STORE, Severity.OK, f"{where} answers and {state}.")


def catalog_finding(catalog: Path | None) -> Finding:
    """Whether the watched catalog folder exists and can be read."""
    if catalog is None:
        return Finding(Check.CATALOG, Severity.INFO, "No catalog: live model pushes are off.")
    if not catalog.exists():
        return Finding(Check.CATALOG, Severity.FAIL, f"The catalog {catalog} does not exist.")
    if not catalog.is_dir():
        return Finding(Check.CATALOG, Severity.FAIL, f"The catalog {catalog} is not a folder.")
    if not os.access(catalog, os.R_OK | os.X_OK):
        return Finding(Check.CATALOG, Severity.FAIL, f"The catalog {catalog} cannot be read.")
    models = sum(1 for p in catalog.iterdir() if p.suffix == ".onnx")
    return Finding(
        Check.CATALOG, Severity.OK, f"The catalog {catalog} is readable ({models} .onnx files)."
    )


def libraries_finding() -> Finding:
    """Versions of the libraries the bridge runs on (from metadata: nothing imported)."""
    versions = []
    for name in _LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} not installed")
    return Finding(Check.LIBRARIES, Severity.INFO, ", ".join(versions) + ".")


__all__ = [
    "Check",
    "DoctorOptions",
    "DoctorReport",
    "Finding",
    "Severity",
    "diagnose",
]

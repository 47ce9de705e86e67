"""Where a store lives: an SQLite file (the default) or a PostgreSQL URL, and its password.

``--store`` (or ``STYLEBRIDGE_STORE``) takes either. A PostgreSQL password may sit in the
URL, in ``--store-password-file`` or in libpq's own ``PG*`` variables and ``~/.pgpass``;
``where`` is what every message prints: the URL without its password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stylebridge.errors import InvalidInputError

_PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(_PG_SCHEMES)


@dataclass(frozen=True)
class StoreLocation:
    """An SQLite path or a PostgreSQL URL; no password (of the URL or the file) ever
    appears in ``repr`` or ``str``."""

    target: str | Path = field(repr=False)
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"StoreLocation({self.where!r})"

    def __str__(self) -> str:
        return self.where

    @property
    def is_postgres(self) -> bool:
        return is_postgres_url(self.target)

    @property
    def where(self) -> str:
        """The location as printed: a path, or the URL without any password."""
        if not self.is_postgres:
            return str(self.target)
        return redact_url(str(self.target))

    @property
    def password_source(self) -> str:
        """Where the password comes from, named without its value (for ``doctor``)."""
        import os

        if not self.is_postgres:
            return "none (SQLite)"
        if self.password is not None:
            return "--store-password-file"
        if _url_parts(str(self.target)).get("password"):
            return "the URL"
        if os.environ.get("PGPASSWORD"):
            return "PGPASSWORD"
        passfile = os.environ.get("PGPASSFILE") or str(Path.home() / ".pgpass")
        if Path(passfile).is_file():
            return f"password file {passfile}"
        return "none (trust, peer or certificate authentication)"


def store_location(value: str | Path, password_file: Path | None = None) -> StoreLocation:
    """``--store`` and ``--store-password-file`` as one location; InvalidInputError when
    the password file cannot be read or is given for an SQLite store."""
    text = str(value)
    target: str | Path = text if is_postgres_url(text) else Path(text)
    if password_file is None:
        return StoreLocation(target)
    if not is_postgres_url(text):
        raise InvalidInputError("--store-password-file is for a postgresql:// --store only")
    try:
        lines = password_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"cannot read the store password file {password_file}: {exc}"
        ) from None
    if not lines or not lines[0].strip():
        raise InvalidInputError(f"the store password file {password_file} is empty")
    return StoreLocation(target, lines[0].strip())


def _url_parts(url: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception as exc:  # psycopg.ProgrammingError for a malformed URL
        raise InvalidInputError(
            f"--store is not a valid PostgreSQL URL: {_scrubbed(exc)}"
        ) from None


def _scrubbed(exc: BaseException) -> str:
    # libpq's parse errors quote the offending part, which could be a password.
    return type(exc).__name__


def redact_url(url: str) -> str:
    """``postgresql://user@host:port/db`` from a URL, whatever password it held."""
    parts = _url_parts(url)
    user = parts.get("user", "")
    host = parts.get("host", "")
    port = parts.get("port", "")
    db = parts.get("dbname", "")
    auth = f"{user}@" if user else ""
    return f"postgresql://{auth}{host}{':' + port if port else ''}/{db}"

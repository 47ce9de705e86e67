"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl on a loopback port.

The cluster lives in a temporary folder, listens on 127.0.0.1 only (its socket in that
folder too), requires a password (scram-sha-256) so the password paths run for real,
and is stopped and deleted when the test session ends. Under root (CI containers)
PostgreSQL refuses to run, so the server runs as the ``postgres`` user the Debian
package creates. `make test` installs the package when it is missing.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

USER = "stylebridge"


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make test`, which "
        "installs Debian's postgresql package, or `apt-get install postgresql`"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One PostgreSQL server; ``database()`` gives each test an empty database."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="stylebridge-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.password = secrets.token_urlsafe(16)
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            shutil.chown(pwfile, "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-sync",
        )
        pwfile.unlink()
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, dbname: str = "postgres", *, with_password: bool = False) -> str:
        auth = f"{USER}:{self.password}" if with_password else USER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def database(self) -> str:
        """A new empty database; its URL (without the password)."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(with_password=True), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

"""Run the history page on a port until stopped (a threaded WSGI server)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from werkzeug.serving import BaseWSGIServer, make_server

from stylebridge.dashboard.app import create_app
from stylebridge.dashboard.data import HistoryReader


class DashboardServer:
    """The page for ``reader`` on ``host:port`` (0 picks a free one), in a thread."""

    def __init__(
        self, reader: HistoryReader, host: str, port: int, token: str | None = None
    ) -> None:
        app = create_app(reader, token)
        self._server: BaseWSGIServer = make_server(host, port, app.server, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dashboard", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        name = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{name}:{port}/"

    def start(self) -> DashboardServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)
        self._server.server_close()

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_dashboard(server: DashboardServer, on_started: Callable[[str], None]) -> None:
    """Serve until Ctrl+C."""
    server.start()
    on_started(server.url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

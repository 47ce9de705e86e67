"""The history page as a Dash app, and the token rule in front of it.

Dash (Flask underneath) serves the page and its JavaScript from the installed package,
so the page works with no internet access; every ``REFRESH_S`` the browser asks for
fresh figures. Bound to a loopback address the page is open to this machine's users,
like the bridge; on any other address it needs the bridge's token: sent as
``Authorization: Bearer TOKEN``, or once as ``?token=TOKEN``, after which an HttpOnly
cookie carries it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from dash import Dash, Input, Output, dcc, html
from flask import Response, redirect, request

from stylebridge.dashboard.data import HistoryReader
from stylebridge.dashboard.figures import (
    latest_comparison_figure,
    live_sessions_figure,
    perf_history_figure,
)

REFRESH_S = 5.0
_COOKIE = "stylebridge_token"


def _time(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def create_app(reader: HistoryReader, token: str | None = None) -> Dash:
    """The page for ``reader``'s store; with ``token``, every request must carry it."""
    app = Dash(__name__, title="StyleBridge history", update_title=None)
    if token is not None:
        _require_token(app.server, token)
    app.layout = html.Div(
        [
            html.H2("StyleBridge studio history"),
            html.Div(id="status", style={"color": "#555"}),
            dcc.Interval(id="tick", interval=int(REFRESH_S * 1000)),
            dcc.Graph(id="perf-history"),
            dcc.Graph(id="perf-latest"),
            html.H3("Live sessions and their last swaps"),
            dcc.Graph(id="live-sessions"),
            html.Div(id="sessions-table"),
            html.H4("Last swaps"),
            html.Div(id="swaps-table"),
        ],
        style={"fontFamily": "sans-serif", "margin": "16px"},
    )

    @app.callback(
        Output("perf-history", "figure"),
        Output("perf-latest", "figure"),
        Output("live-sessions", "figure"),
        Output("sessions-table", "children"),
        Output("swaps-table", "children"),
        Output("status", "children"),
        Input("tick", "n_intervals"),
    )
    def refresh(_: int | None) -> tuple[Any, ...]:
        points = reader.perf_points()
        sessions = reader.live_sessions()
        swaps = reader.last_swaps([s.session_id for s in sessions])
        runs = len({p.run_id for p in points})
        regressions = sum(p.regressed for p in points)
        status = (
            f"{reader.where} · {runs} perf runs · {regressions} regressed cases · "
            f"{len(sessions)} live sessions · updated {_time(_now_us())} UTC"
        )
        session_rows = [
            {
                "session": s.session_id[:8],
                "state": s.state,
                "engine": s.engine,
                "gpu": s.gpu,
                "client": s.client_name,
                "model": s.python_model_id,
                "frames": s.frames,
                "started (UTC)": _time(s.started_at_us),
                "server": s.server_id[:8],
            }
            for s in sessions
        ]
        swap_rows = [
            {
                "session": w.session_id[:8],
                "requested (UTC)": _time(w.requested_at_us),
                "model": w.to_model_id,
                "result": w.result,
                "trigger": w.trigger,
                "ms": "" if w.total_ms is None else f"{w.total_ms:.0f}",
            }
            for w in swaps
        ]
        return (
            perf_history_figure(points),
            latest_comparison_figure(points),
            live_sessions_figure(sessions),
            _table(session_rows, "no live sessions"),
            _table(swap_rows, "no swaps in the live sessions"),
            status,
        )

    return app


_CELL = {"padding": "3px 10px", "borderBottom": "1px solid #ddd", "textAlign": "left"}


def _table(rows: list[dict[str, Any]], empty: str) -> Any:
    if not rows:
        return html.P(empty, style={"color": "#777"})
    header = html.Tr([html.Th(name, style=_CELL) for name in rows[0]])
    body = [html.Tr([html.Td(str(v), style=_CELL) for v in row.values()]) for row in rows]
    return html.Table([html.Thead(header), html.Tbody(body)], style={"borderCollapse": "collapse"})


def _now_us() -> int:
    import time

    return time.time_ns() // 1000


def _require_token(server: Any, token: str) -> None:
    expected = token.encode()

    def matches(value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), expected)

    @server.before_request
    def check() -> Any:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and matches(header[len("Bearer ") :]):
            return None
        if matches(request.cookies.get(_COOKIE)):
            return None
        if matches(request.args.get("token")):
            # Once from the address bar, then from a cookie; the token leaves the URL.
            response = redirect(request.path)
            response.set_cookie(_COOKIE, token, httponly=True, samesite="Strict")
            return response
        return Response(
            "a token is required: 'Authorization: Bearer TOKEN' or ?token=TOKEN once\n",
            status=401,
            mimetype="text/plain",
        )

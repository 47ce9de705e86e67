"""The page's plots (Plotly): perf history over time, engine against Python, live sessions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import plotly.graph_objects as go
from plotly.colors import qualitative

from stylebridge.dashboard.data import LiveSession, PerfPoint

_PALETTE = qualitative.Plotly


def _when(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC)


def _empty(title: str, note: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title=title,
        annotations=[{"text": note, "showarrow": False, "xref": "paper", "yref": "paper"}],
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def perf_history_figure(points: list[PerfPoint]) -> go.Figure:
    """Median engine ms (solid) and Python ms (dashed) per model × resolution × device over
    the runs; regressions the gate found are red crosses on the engine line."""
    title = "perf-test runs over time: median ms per frame"
    measured = [p for p in points if p.engine_median_ms is not None]
    if not measured:
        return _empty(title, "no perf-test runs stored yet: run `stylebridge perf-test --store …`")
    by_series: dict[str, list[PerfPoint]] = defaultdict(list)
    for point in measured:
        by_series[point.series].append(point)
    figure = go.Figure()
    for index, (series, pts) in enumerate(sorted(by_series.items())):
        color = _PALETTE[index % len(_PALETTE)]
        x = [_when(p.started_at_us) for p in pts]
        labels = [p.label for p in pts]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[p.engine_median_ms for p in pts],
                name=f"{series} · engine",
                legendgroup=series,
                mode="lines+markers",
                line={"color": color},
                text=labels,
                hovertemplate="%{text}<br>engine %{y:.2f} ms<extra>" + series + "</extra>",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[p.python_median_ms for p in pts],
                name=f"{series} · Python",
                legendgroup=series,
                mode="lines+markers",
                line={"color": color, "dash": "dash"},
                marker={"symbol": "circle-open"},
                text=labels,
                hovertemplate="%{text}<br>Python %{y:.2f} ms<extra>" + series + "</extra>",
            )
        )
    regressed = [p for p in measured if p.regressed]
    figure.add_trace(
        go.Scatter(
            x=[_when(p.started_at_us) for p in regressed],
            y=[p.engine_median_ms for p in regressed],
            name="regression (gate failed)",
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": "crimson", "line": {"width": 2}},
            text=[f"{p.label}: {p.series} +{p.change_percent or 0:.0f} %" for p in regressed],
            hovertemplate="%{text}<extra>regression</extra>",
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title="run started (UTC)",
        yaxis_title="median ms per frame",
        legend={"orientation": "h", "y": -0.25},
        hovermode="closest",
    )
    return figure


def latest_comparison_figure(points: list[PerfPoint]) -> go.Figure:
    """The newest run of each series: engine ms beside Python ms, as bars."""
    title = "newest run per model × resolution × device: engine against Python"
    latest: dict[str, PerfPoint] = {}
    for point in points:
        if point.engine_median_ms is not None:
            latest[point.series] = point  # points come oldest first
    if not latest:
        return _empty(title, "no measured cases yet")
    names = sorted(latest)
    figure = go.Figure(
        [
            go.Bar(name="engine", x=names, y=[latest[n].engine_median_ms for n in names]),
            go.Bar(name="Python", x=names, y=[latest[n].python_median_ms for n in names]),
        ]
    )
    figure.update_layout(title=title, barmode="group", yaxis_title="median ms per frame")
    return figure


def live_sessions_figure(sessions: list[LiveSession]) -> go.Figure:
    """Frames stored so far by each live session."""
    title = "live sessions: frames stored"
    if not sessions:
        return _empty(title, "no live sessions")
    names = [f"{s.session_id[:8]} {s.client_name or s.engine}" for s in sessions]
    figure = go.Figure(
        go.Bar(x=[s.frames for s in sessions], y=names, orientation="h", marker_color="teal")
    )
    figure.update_layout(title=title, xaxis_title="frames", height=160 + 28 * len(sessions))
    return figure

"""The history page in a real headless Chromium (Debian's package, driven by Playwright):
the plots show the stored runs, regressions and live sessions; and the token rule.

Playwright never downloads a browser here: it launches the system's ``chromium``
(`make test` installs it from Debian's packages when missing).
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stylebridge.cli import app
from stylebridge.dashboard.data import HistoryReader
from stylebridge.dashboard.serve import DashboardServer
from stylebridge.errors import InvalidInputError
from stylebridge.harness.history import PerfHistory
from stylebridge.harness.results import CaseResult, CaseStatus, GateResult, RunResult, RunStatus
from stylebridge.store import FrameRecord, SessionRecord, Store, StoreLocation, SwapRecord

_HOUR_US = 3_600 * 1_000_000
_START_US = 1_780_000_000 * 1_000_000


def _case(model: str, width: int, height: int, engine_ms: float, regressed: bool) -> CaseResult:
    gate = (
        GateResult("previous", engine_ms / 1.3, 1.3, 1.2, 1.4, 0.001, True) if regressed else None
    )
    return CaseResult(
        model_id=model,
        width=width,
        height=height,
        status=CaseStatus.REGRESSED if regressed else CaseStatus.OK,
        engine="sentis",
        timing_method="blocking_readback",
        engine_ms=(engine_ms, engine_ms + 1, engine_ms + 2),
        python_ms=(30.0, 31.0, 32.0),
        gate=gate if regressed else None,
    )


def _fill(location: str | Path) -> str:
    """Four nightly runs of two series (the last one regressed) and a live session."""
    with PerfHistory(location) as history:
        for night in range(4):
            slow = night == 3
            history.save_run(
                RunResult(
                    run_id=f"run-{night}",
                    label=f"nightly-{night}",
                    started_at_us=_START_US + night * 24 * _HOUR_US,
                    finished_at_us=_START_US + night * 24 * _HOUR_US + 60_000_000,
                    status=RunStatus.REGRESSED if slow else RunStatus.OK,
                    player="player",
                    engine="sentis",
                    player_info={"gpu": "RTX 4070"},
                    cases=(
                        _case("mosaic", 640, 360, 20.0 + (8 if slow else night), slow),
                        _case("candy", 320, 180, 9.0, False),
                    ),
                )
            )
    with Store(location) as store:
        store.mark_interrupted_open_sessions()
        store.start_session(
            SessionRecord("live0001-session", 1, state="streaming", client_name="unity-editor")
        )
        for i in range(42):
            store.record_frame(FrameRecord("live0001-session", i, 10 + i, "processed"))
        store.record_swap(
            SwapRecord(
                "push-1", "live0001-session", 5, to_model_id="candy", result="ok", push_ms=40.0
            )
        )
        assert store.flush()
        # The page reads the session as live: its server keeps the store open meanwhile.
        return store.instance_id


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Debian's chromium is required (make test installs it: apt-get install chromium)"
        )
    return found


def test_the_page_plots_the_stored_runs_in_a_real_browser(pg_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _fill(pg_url)
    with (
        HistoryReader(StoreLocation(pg_url)) as reader,
        DashboardServer(reader, "127.0.0.1", 0) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(server.url)
            page.wait_for_function(
                "() => { const g = document.querySelector('#perf-history .js-plotly-plot');"
                " return g && g.data && g.data.length > 0; }",
                timeout=30_000,
            )
            traces = page.evaluate(
                "() => document.querySelector('#perf-history .js-plotly-plot').data"
                ".map(t => ({name: t.name, n: t.y.length, text: t.text}))"
            )
            page.wait_for_selector("text=live0001", timeout=30_000)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            body = page.inner_text("body")
        finally:
            browser.close()
    by_name = {t["name"]: t for t in traces}
    engine = by_name["mosaic 640×360 on RTX 4070 · engine"]
    assert engine["n"] == 4 and engine["text"] == [f"nightly-{i}" for i in range(4)]
    assert by_name["candy 320×180 on RTX 4070 · Python"]["n"] == 4
    regression = by_name["regression (gate failed)"]
    assert regression["n"] == 1 and "nightly-3" in regression["text"][0]
    assert "4 perf runs" in body and "1 regressed cases" in body and "1 live sessions" in body
    assert "unity-editor" in body and "candy" in body  # the live session and its last swap
    shot = (tmp_path / "dashboard.png").read_bytes()
    assert shot[:4] == b"\x89PNG" and len(shot) > 20_000


def test_a_token_guards_the_page(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    _fill(store)
    with (
        HistoryReader(StoreLocation(store)) as reader,
        DashboardServer(reader, "127.0.0.1", 0, token="t" * 32) as server,
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url, timeout=10)
        assert refused.value.code == 401
        bearer = urllib.request.Request(server.url, headers={"Authorization": "Bearer " + "t" * 32})
        with urllib.request.urlopen(bearer, timeout=10) as page:
            assert page.status == 200 and b"StyleBridge history" in page.read()
        wrong = urllib.request.Request(server.url, headers={"Authorization": "Bearer " + "u" * 32})
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(wrong, timeout=10)


def test_a_non_loopback_address_needs_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STYLEBRIDGE_TOKEN", raising=False)
    result = CliRunner().invoke(
        app, ["dashboard", "--store", str(tmp_path / "s.sqlite"), "--host", "0.0.0.0"]
    )
    assert isinstance(result.exception, InvalidInputError)
    assert "without a token" in str(result.exception)

"""`stylebridge demo` end to end: real server, real client, real store, real report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stylebridge.cli import app


def test_demo_streams_and_reports_with_the_untrained_default(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--count", "24", "--size", "128x72", "--fps", "0", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "untrained" in result.output

    report = json.loads((out / "report.json").read_text())
    summary = report["summary"]
    assert summary["frames"] == 24  # every frame the client sent is in the store
    by_status = summary["by_status"]
    assert by_status.get("processed", 0) + by_status.get("dropped", 0) == 24
    assert summary["engine"]["count"] == 24
    assert summary["python"]["count"] == by_status["processed"]
    assert summary["parity"]["count"] >= 1
    assert report["facts"]["untrained"] is True

    markdown = (out / "report.md").read_text()
    assert "untrained" in markdown and "| engine | 24 |" in markdown
    for name in ("timings.png", "sample.png", "untrained-style.onnx", "stylebridge.sqlite"):
        assert (out / name).stat().st_size > 0, name


def test_demo_with_a_trained_model(tmp_path: Path, models_dir: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--model",
            str(models_dir / "ingame-small.onnx"),
            "--count",
            "12",
            "--size",
            "128x72",
            "--fps",
            "0",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["facts"]["untrained"] is False
    assert report["summary"]["frames"] == 12
    assert "untrained" not in (out / "report.md").read_text()

"""`stylebridge demo` end to end: real server, real client, real store, real report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stylebridge.cli import app


def test_demo_runs_the_builtin_style_optimizes_it_and_swaps(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--count", "24", "--size", "128x72", "--fps", "0", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "built-in style" in result.output

    report = json.loads((out / "report.json").read_text())
    summary = report["summary"]
    assert summary["frames"] == 24  # every frame the client sent is in the store
    by_status = summary["by_status"]
    assert by_status.get("processed", 0) + by_status.get("dropped", 0) == 24
    assert summary["engine"]["count"] == 24
    assert summary["python"]["count"] == by_status["processed"]
    assert summary["parity"]["count"] >= 1
    assert report["facts"]["builtin_style"] is True

    # The optimize pipeline made the built-in style's variants and their report...
    manifest = json.loads((out / "optimize" / "manifest.json").read_text())
    assert {v["id"] for v in manifest["variants"]} >= {"fp16-weights", "int8-weights"}
    assert (out / "optimize" / "report" / "report.md").is_file()
    # ...and the demo report links to it. (The half-way swap to the fp16 variant is
    # test_swap.py's test_demo_swaps_half_way: at --fps 0 the 24 frames can end first.)
    markdown = (out / "report.md").read_text()
    assert "built-in style" in markdown and "| engine | 24 |" in markdown
    assert "](optimize/report/report.md)" in markdown
    for name in ("timings.png", "sample.png", "stylebridge.sqlite"):
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
    assert report["facts"]["builtin_style"] is False
    assert report["summary"]["frames"] == 12
    assert not (out / "optimize").exists()  # a user's model is streamed as it is

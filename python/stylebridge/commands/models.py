"""``stylebridge inspect`` and ``stylebridge export``: look at a model, make an ONNX one.

Both only turn arguments into configs and call ``stylebridge.models`` /
``stylebridge.models.export``; torch and onnx are imported inside the commands so
that ``stylebridge --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from stylebridge.errors import InvalidInputError, NotFoundError
from stylebridge.file_kinds import CHECKPOINT_SUFFIXES
from stylebridge.sizes import parse_size

if TYPE_CHECKING:
    import numpy as np

    from stylebridge.models import LoadedCheckpoint, OnnxModel
    from stylebridge.models.export import ExportReport

console = Console()

_FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def register(app: typer.Typer) -> None:
    """Add ``inspect`` and ``export`` to the ``stylebridge`` command."""
    app.command("inspect")(inspect_model)
    app.command("export")(export_model)


def inspect_model(
    model: Annotated[Path, typer.Argument(help="A .pth/.pt checkpoint or an .onnx model.")],
) -> None:
    """Show what a model file is: kind, shape, parameters, opset, input handling, sha256."""
    from stylebridge.errors import ModelFormatError
    from stylebridge.models import OnnxModel, load_model

    refusal = ""
    try:
        loaded = load_model(model)
        rows = _onnx_rows(loaded) if isinstance(loaded, OnnxModel) else _checkpoint_rows(loaded)
    except ModelFormatError as exc:
        # A valid ONNX graph that is not a one-image style model (two inputs, ...):
        # describe what it is, then say why StyleBridge cannot run it.
        from stylebridge.models.onnx_graph import graph_rows

        rows, refusal = graph_rows(model), str(exc)
    table = Table(title=str(model), show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if refusal:
        console.print(f"[yellow]StyleBridge cannot serve or optimize it:[/] {refusal}")


def export_model(
    model: Annotated[Path, typer.Argument(help="A .pth/.pt TransformerNet checkpoint.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the .onnx file.")],
    engine: Annotated[
        str, typer.Option(help="Target engine: barracuda-1.0, barracuda-2, barracuda-3, …")
    ] = "barracuda-3",
    opset: Annotated[
        int | None, typer.Option(help="ONNX opset (default: the engine's, 9 for Barracuda).")
    ] = None,
    frames: Annotated[
        Path | None,
        typer.Option(help="Folder of frames for the ONNX-vs-torch check (default: shared frames)."),
    ] = None,
    max_frames: Annotated[int, typer.Option(min=1, help="Frames used by the check.")] = 4,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT for tracing and the check.")] = "320x180",
) -> None:
    """Export a checkpoint to ONNX for an engine and check it against torch on real frames."""
    from stylebridge.engines.targets import Engine
    from stylebridge.models import load_checkpoint
    from stylebridge.models.export import ExportConfig, export_onnx

    if model.suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise InvalidInputError(f"{model}: export takes a PyTorch checkpoint (.pth, .pt or .model)")
    sample_size = parse_size(size)
    config = ExportConfig(engine=Engine.parse(engine), opset=opset, sample_size=sample_size)
    frame_dir = frames if frames is not None else _default_frames()
    images, names = _read_frames(frame_dir, max_frames, sample_size) if frame_dir else ([], [])
    with console.status(f"Exporting {model.name} (opset {config.resolved_opset}) …"):
        checkpoint = load_checkpoint(model)
        report = export_onnx(checkpoint.model, out, config, frames=images or None, source=model)
    _print_report(report, names, frame_dir)
    if report.check is not None and not report.check.passed:
        raise typer.Exit(code=1)


def _checkpoint_rows(loaded: LoadedCheckpoint) -> list[tuple[str, str]]:
    from stylebridge.models import count_parameters

    config = loaded.config
    return [
        ("kind", "PyTorch checkpoint (TransformerNet)"),
        ("architecture", config.architecture.value),
        ("widths", "/".join(str(w) for w in config.widths)),
        ("residual blocks", str(config.residual_blocks)),
        ("parameters", f"{count_parameters(loaded.model):,}"),
        ("stale keys dropped", str(len(loaded.dropped_keys))),
        ("keys renamed", _renamed(loaded.renamed_keys)),
        ("input", "RGB 0..255, NCHW float32, any size (multiples of 4 keep their size)"),
        ("sha256", loaded.sha256),
    ]


def _onnx_rows(loaded: OnnxModel) -> list[tuple[str, str]]:
    from stylebridge.models import count_onnx_parameters, read_metadata

    ops: dict[str, int] = {}
    for node in loaded.proto.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    rows = [
        ("kind", "ONNX model"),
        ("opset", str(loaded.opset)),
        ("input", loaded.input_name),
        ("output", loaded.output_name),
        ("input size", loaded.note),
        ("pixels", loaded.pixel.describe()),
        ("parameters", f"{count_onnx_parameters(loaded.proto):,}"),
        ("operators", ", ".join(f"{op} x{n}" for op, n in sorted(ops.items()))),
        ("sha256", loaded.sha256),
    ]
    rows.extend((f"metadata {k}", v) for k, v in sorted(read_metadata(loaded.proto).items()))
    return rows


def _renamed(renamed: tuple[tuple[str, str], ...]) -> str:
    if not renamed:
        return "0"
    old, new = renamed[0]
    return f"{len(renamed)} (e.g. {old} -> {new})"


def _default_frames() -> Path | None:
    from stylebridge.paths import shared_dir

    root = shared_dir()
    folder = root / "frames" if root is not None else None
    return folder if folder is not None and folder.is_dir() else None


def _read_frames(
    folder: Path, limit: int, size: tuple[int, int]
) -> tuple[list[np.ndarray], list[str]]:
    """Up to ``limit`` images of ``folder`` (sorted by name) as RGB uint8 at ``size``."""
    import numpy as np
    from PIL import Image

    if not folder.is_dir():
        raise NotFoundError(f"frames folder {folder} does not exist")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in _FRAME_SUFFIXES)[:limit]
    if not paths:
        raise InvalidInputError(f"no images ({', '.join(_FRAME_SUFFIXES)}) in {folder}")
    frames = []
    for path in paths:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize(size, Image.Resampling.BILINEAR)
            frames.append(np.asarray(rgb, dtype=np.uint8).copy())
    return frames, [p.name for p in paths]


def _print_report(report: ExportReport, names: list[str], frame_dir: Path | None) -> None:
    ops = ", ".join(f"{op} x{n}" for op, n in report.op_counts)
    console.print(
        f"[bold]wrote[/] {report.path} ({report.size_bytes:,} bytes, "
        f"sha256 {report.sha256[:16]}…)\n"
        f"engine {report.engine.value}, opset {report.opset}, "
        f"input {report.input_name!r} -> output {report.output_name!r}, "
        f"{'dynamic H x W' if report.dynamic_spatial else 'fixed size'}\n"
        f"operators: {ops}"
    )
    check = report.check
    if check is None:
        console.print(
            "[yellow]no frames found: the ONNX Runtime vs torch check was skipped[/] "
            "(pass --frames DIR)"
        )
        return
    table = Table(title=f"ONNX Runtime vs torch on frames from {frame_dir} (0..255 scale)")
    for column in ("frame", "size", "max abs err", "mean abs err"):
        table.add_column(column, justify="left" if column == "frame" else "right")
    for frame in check.frames:
        name = names[frame.index] if frame.index < len(names) else str(frame.index)
        table.add_row(
            name, f"{frame.width}x{frame.height}", f"{frame.max_abs:.5f}", f"{frame.mean_abs:.6f}"
        )
    table.add_row(
        "[bold]all[/]", "", f"[bold]{check.max_abs:.5f}[/]", f"[bold]{check.mean_abs:.6f}[/]"
    )
    console.print(table)
    verdict = "[green]PASS[/]" if check.passed else "[red]FAIL[/]"
    console.print(
        f"{verdict}: tolerance max <= {check.tolerance.max_abs}, mean <= {check.tolerance.mean_abs}"
    )

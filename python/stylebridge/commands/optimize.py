"""`stylebridge optimize` (a catalog of variants from one model) and `stylebridge quantize`
(one quantized or weight-compressed ONNX file).

Exit codes: 0 done; 1 a variant failed (optimize) or a weight-only file is outside its
tolerance (quantize); 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.optimize.quantize import QuantizeMode
from stylebridge.optimize.weights import Fp16Layout, Int8Scheme


def register(app: typer.Typer) -> None:
    """Add the `optimize` and `quantize` commands to ``app``."""

    @app.command("optimize")
    def optimize_command(
        model: Annotated[Path, typer.Argument(help="Teacher model: .pth (every recipe) or .onnx.")],
        frames: Annotated[Path, typer.Option("--frames", help="Folder of content frames.")],
        out: Annotated[Path, typer.Option("--out", help="Catalog folder to create or update.")],
        recipe: Annotated[str, typer.Option(
            "--recipe", help="Recipe set: quick, default, students, or a TOML file.")] = "default",
        rebuild: Annotated[bool, typer.Option(
            "--rebuild", help="Build every variant again, even where the catalog has it.")] = False,
        resolution: Annotated[list[str] | None, typer.Option(
            "--resolution", help="Latency resolution WIDTHxHEIGHT (repeat for several); "
            "overrides the recipe set's.")] = None,
        ray: Annotated[str | None, typer.Option(
            "--ray", metavar="ADDRESS", help="Build the variants as tasks on Ray: 'local' "
            "starts Ray here with this machine's CPUs; 'auto' or ray://HOST:PORT joins a "
            "cluster. Overrides the recipe file's [ray] address.")] = None,
    ) -> None:
        """Build, measure and engine-check every variant of a recipe set into a catalog."""
        from rich.console import Console

        from stylebridge.errors import StyleBridgeError
        from stylebridge.optimize.pipeline import EventKind, OptimizeEvent, optimize
        from stylebridge.optimize.recipes import LatencySettings, load_recipes

        console, err = Console(), Console(stderr=True)
        failures: list[str] = []

        def show(event: OptimizeEvent) -> None:
            if event.kind is EventKind.CLUSTER:
                console.print(f"[bold cyan]{event.detail}[/]")
                return
            style = {EventKind.START: "cyan", EventKind.BUILT: "green",
                     EventKind.REUSED: "green", EventKind.SKIPPED: "yellow",
                     EventKind.FAILED: "bold red", EventKind.CLUSTER: "cyan"}[event.kind]
            detail = f" ({event.detail})" if event.detail else ""
            console.print(f"[{style}][{event.index}/{event.total - 1}] {event.kind.value}[/] "
                          f"{event.variant_id}{detail}")
            if event.kind is EventKind.FAILED:
                failures.append(event.variant_id)

        try:
            recipes = load_recipes(recipe)
            if resolution:
                latency = LatencySettings(resolutions=tuple(resolution),
                                          runs=recipes.latency.runs,
                                          warmup=recipes.latency.warmup)
                recipes = recipes.model_copy(update={"latency": latency})
            manifest = optimize(model, frames, out, recipes, rebuild, show,
                                training_progress=True, ray=ray)
        except StyleBridgeError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        _print_catalog(console, manifest)
        console.print(f"catalog: {out / 'manifest.json'}")
        if failures:
            err.print(f"[bold red]error:[/] {len(failures)} recipe(s) failed: "
                      f"{', '.join(failures)} (reasons above)")
            raise typer.Exit(1)

    @app.command("quantize")
    def quantize_command(
        model: Annotated[Path, typer.Argument(help="Float32 ONNX model.")],
        out: Annotated[Path, typer.Option("--out", help="ONNX file to write.")],
        mode: Annotated[QuantizeMode, typer.Option(
            "--mode", case_sensitive=False, help="dynamic/static: ONNX Runtime int8 (Python "
            "only); fp16-weights/int8-weights: weight-only, engines load them.")],
        frames: Annotated[Path | None, typer.Option(
            "--frames", help="Frames: calibrate static; check weight-only vs the float model.")]
        = None,
        size: Annotated[str, typer.Option(
            "--size", help="Calibration/check frame size WIDTHxHEIGHT.")] = "320x180",
        count: Annotated[int, typer.Option("--count", help="Frames to use at most.")] = 8,
        fp16_layout: Annotated[Fp16Layout, typer.Option(
            "--fp16-layout", case_sensitive=False)] = Fp16Layout.ALL_FP16,
        int8_scheme: Annotated[Int8Scheme, typer.Option(
            "--int8-scheme", case_sensitive=False)] = Int8Scheme.SYMMETRIC,
    ) -> None:
        """Write one quantized or weight-compressed variant of MODEL."""
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from stylebridge.errors import StyleBridgeError
        from stylebridge.frames import load_image, resize
        from stylebridge.optimize.pipeline import image_paths
        from stylebridge.optimize.quantize import QuantizeConfig, quantize
        from stylebridge.sizes import parse_size

        console, err = Console(), Console(stderr=True)
        try:
            width, height = parse_size(size)
            config = QuantizeConfig(mode=mode, calibration_size=(width, height),
                                    calibration_frames=count, fp16_layout=fp16_layout,
                                    int8_scheme=int8_scheme)
            images = []
            if frames is not None:
                images = [resize(load_image(p), (width, height))
                          for p in image_paths(frames)[:count]]
            with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                          TimeElapsedColumn(), console=console, transient=True) as bar:
                bar.add_task(f"quantizing {model.name} ({mode.value})", total=None)
                result = quantize(model, out, config, images)
        except StyleBridgeError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        console.print(f"wrote {result.path}: {result.size_bytes:,} bytes, "
                      f"{result.size_ratio:.3f}x the source")
        if mode.python_only:
            console.print("[yellow]Python only:[/] quantized operators; no Unity engine imports "
                          "them (see `stylebridge check`)")
        cmp = result.comparison
        if cmp is not None:
            state = "[green]within[/]" if cmp.passed else "[bold red]OUTSIDE[/]"
            console.print(f"vs float model on {len(images)} frames: mean abs {cmp.mean_abs:.3f}, "
                          f"max abs {cmp.max_abs:.2f} (0..255): {state} tolerance "
                          f"(mean {cmp.tolerance.mean_abs}, max {cmp.tolerance.max_abs})")
            raise typer.Exit(0 if cmp.passed else 1)


def _print_catalog(console: object, manifest: object) -> None:
    from rich.table import Table

    table = Table(title="catalog (ms: first latency resolution; b3 = Barracuda 3, s2 = Sentis 2)")
    table.add_column("variant", no_wrap=True)
    for column in ("KB", "params", "GFLOPs", "SSIM", "PSNR", "ms", "b3", "s2"):
        table.add_column(column, justify="right")
    short = {"runs": "yes", "runs-with-difference": "diff", "cannot-run": "no"}
    for v in manifest.variants:  # type: ignore[attr-defined]
        flops = max(v.flops.values()) / 1e9 if v.flops else 0.0
        fid = v.fidelity
        lat = v.latency[0].median_ms if v.latency else float("nan")
        verdicts = {e.engine: short.get(e.verdict, e.verdict) for e in v.engines}
        table.add_row(v.id, f"{v.size_bytes / 1024:.0f}", f"{v.params / 1e6:.2f}M",
                      f"{flops:.1f}", f"{fid.ssim_mean:.3f}" if fid else "-",
                      f"{fid.psnr_mean_db:.1f}" if fid else "-", f"{lat:.0f}",
                      verdicts.get("barracuda-3", "-"), verdicts.get("sentis-2", "-"))
    console.print(table)  # type: ignore[attr-defined]

"""``stylebridge serve``: run the bridge server until Ctrl+C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.config import DEFAULT_PORT, DEFAULT_STORE
from stylebridge.inference.base import BackendKind


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one).")] = (
        DEFAULT_PORT
    ),
    model: Annotated[
        Path | None,
        typer.Option(
            help="Model Python runs (.onnx or .pth); without it frames are only recorded."
        ),
    ] = None,
    backend: Annotated[
        BackendKind, typer.Option(case_sensitive=False, help="Library that runs the model.")
    ] = BackendKind.ONNXRUNTIME,
    store: Annotated[Path, typer.Option(help="SQLite file for sessions and timings.")] = (
        DEFAULT_STORE
    ),
    token: Annotated[
        str | None,
        typer.Option(
            envvar="STYLEBRIDGE_TOKEN",
            help="Clients must send 'authorization: Bearer TOKEN'.",
            show_default=False,
        ),
    ] = None,
    queue_depth: Annotated[
        int, typer.Option(min=1, help="Frames waiting per stream before the newest wins.")
    ] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Python inference threads.")] = 1,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="Folder of .onnx models to watch: each complete new file is validated and "
            "pushed to the clients live (see `stylebridge swap`, `stylebridge models`).",
        ),
    ] = None,
    settle: Annotated[
        float,
        typer.Option(min=0.0, help="Seconds a catalog file must stand still to count as complete."),
    ] = 0.1,
) -> None:
    """Serve the bridge: Unity (or `stylebridge client`) streams frames, Python stylizes them."""
    from rich.console import Console

    from stylebridge.bridge import BridgeServer, run_server
    from stylebridge.config import Limits, ServerConfig

    console = Console()
    config = ServerConfig(
        host=host,
        port=port,
        model=model,
        backend=backend,
        store=store,
        token=token,
        limits=Limits(frame_queue_depth=queue_depth, inference_workers=workers),
        catalog=catalog,
        settle_s=settle,
    )

    def started(server: BridgeServer) -> None:
        inference = (
            f"{server.python_backend} running [bold]{server.python_model.model_id}[/]"
            if config.python_inference
            else "[yellow]off[/] (no --model: frames are recorded, not stylized)"
        )
        console.print(f"[bold green]StyleBridge[/] listening on [bold]{server.address}[/]")
        console.print(f"  python inference: {inference}")
        console.print(f"  store: {config.store}")
        if config.catalog is not None:
            registry = server.pushes.registry
            refused = len(registry.refused())
            note = f", {refused} refused: see `stylebridge models`" if refused else ""
            console.print(
                f"  watching [bold]{config.catalog}[/] ({len(registry.models())} models{note}): "
                "new files are pushed live"
            )
        if config.token is not None:
            console.print("  token required (authorization: Bearer …)")
        console.print("  Ctrl+C to stop")

    run_server(config, on_started=started)
    console.print("stopped")

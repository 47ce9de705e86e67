"""``stylebridge serve``: run the bridge server until Ctrl+C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.commands._store import (
    DEFAULT_STORE_TEXT,
    StoreOption,
    StorePasswordFileOption,
    resolve_store,
)
from stylebridge.config import DEFAULT_PORT
from stylebridge.inference.base import BackendKind


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command("serve")(serve)


def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default, 127.0.0.1, is this machine only; "
            "anything else (0.0.0.0: every network) needs a token (STYLEBRIDGE_TOKEN or "
            "--token-file) and should use --tls-cert/--tls-key."
        ),
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
        BackendKind,
        typer.Option(
            case_sensitive=False,
            help="Library that runs the model; auto measures the installed ones at load and "
            "keeps the fastest within parity of the float reference.",
        ),
    ] = BackendKind.AUTO,
    store: StoreOption = DEFAULT_STORE_TEXT,
    store_password_file: StorePasswordFileOption = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="File whose first line is the token clients must send "
            "('authorization: Bearer TOKEN'); keep it private (chmod 600). Without it, "
            "the token comes from the STYLEBRIDGE_TOKEN environment variable.",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="The token itself. Visible to other local users (ps) and kept in shell "
            "history: prefer STYLEBRIDGE_TOKEN or --token-file.",
            show_default=False,
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(help="PEM certificate (chain) to serve TLS with; needs --tls-key."),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(help="PEM private key of --tls-cert (unencrypted; keep it private)."),
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
    from stylebridge.credentials import load_server_tls, resolve_token

    console = Console()
    resolved = resolve_token(argument=token, token_file=token_file)
    location = resolve_store(store, store_password_file)
    config = ServerConfig(
        host=host,
        port=port,
        model=model,
        backend=backend,
        store=location.target,
        store_password=location.password,
        token=resolved.value if resolved is not None else None,
        tls=load_server_tls(tls_cert, tls_key),
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
        if server.backend_choice:
            console.print(f"  {server.backend_choice}", highlight=False)
        console.print(f"  store: {location.where}", highlight=False)
        if config.catalog is not None:
            registry = server.pushes.registry
            refused = len(registry.refused())
            note = f", {refused} refused: see `stylebridge models`" if refused else ""
            console.print(
                f"  watching [bold]{config.catalog}[/] ({len(registry.models())} models{note}): "
                "new files are pushed live"
            )
        if resolved is not None:
            console.print(f"  token required ({resolved.describe()})")
        if config.tls is not None:
            console.print(f"  TLS on ({config.tls.cert})")
        elif config.exposed:
            console.print(
                "  [bold yellow]TLS off[/]: reachable from other machines, the token and "
                "frames travel in clear text; add --tls-cert/--tls-key "
                "(see `stylebridge doctor`)"
            )
        console.print("  Ctrl+C to stop")

    run_server(config, on_started=started)
    console.print("stopped")

"""`stylebridge check MODEL.onnx --engine barracuda-3`: can that engine run the model?

Exit codes: 0 when it runs (differences included), 1 when it cannot run (operators,
or declared shapes needing more memory than ``onnx_budget`` allows), 2 on bad input
(missing or unreadable file, unknown engine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stylebridge.engines.targets import Engine


def register(app: typer.Typer) -> None:
    """Add the `check` command to ``app``."""

    @app.command("check")
    def check(
        model: Annotated[Path, typer.Argument(help="ONNX file to check.")],
        engine: Annotated[
            Engine,
            typer.Option(
                "--engine",
                "-e",
                case_sensitive=False,
                help="Engine whose importer to check against.",
            ),
        ] = Engine.BARRACUDA_3,
        json_output: Annotated[
            bool, typer.Option("--json", help="Print the report as JSON.")
        ] = False,
        all_nodes: Annotated[
            bool, typer.Option("--all-nodes", help="One row per node instead of per operator.")
        ] = False,
    ) -> None:
        """Tell whether ENGINE can run MODEL: a verdict, reason and fix per node."""
        from rich.console import Console

        from stylebridge.engines.checker import check_model, load_model_for_check
        from stylebridge.engines.render import print_report, report_json
        from stylebridge.errors import StyleBridgeError
        from stylebridge.models.onnx_budget import check_memory

        try:
            proto = load_model_for_check(model)
            report = check_model(proto, engine)
        except StyleBridgeError as exc:
            Console(stderr=True).print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        if json_output:
            typer.echo(report_json(report))
        else:
            print_report(report, Console(), all_nodes=all_nodes)
        try:
            # Shapes that need gigabytes cannot run on any engine, whatever its ops.
            check_memory(proto, name=str(model))
        except StyleBridgeError as exc:
            Console(stderr=True).print(f"[bold red]cannot run:[/] {exc}")
            raise typer.Exit(1) from exc
        raise typer.Exit(0 if report.runs else 1)

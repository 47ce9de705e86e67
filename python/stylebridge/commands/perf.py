"""`stylebridge perf-test`: measure models in the player (or editor) and gate regressions.

Exit codes: 0 no regression; 1 a case regressed against the baseline; 2 bad input;
3 the player failed (never connected, crashed, hung) — partial results are written.
"""

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


def register(app: typer.Typer) -> None:
    """Add the `perf-test` command to ``app``."""

    @app.command(
        "perf-test",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def perf_test(
        ctx: typer.Context,
        player: Annotated[
            Path | None,
            typer.Option(help="Player build to launch; omitted: wait for Play in the editor."),
        ] = None,
        plan: Annotated[
            Path | None, typer.Option(help="Plan (TOML); omitted: the default plan.")
        ] = None,
        catalog: Annotated[
            Path | None, typer.Option(help="Catalog folder the plan's model ids come from.")
        ] = None,
        label: Annotated[
            str, typer.Option(help="Build / commit label this run is stored under.")
        ] = "local",
        baseline: Annotated[
            str | None, typer.Option(help="Compare with the newest stored run of this label.")
        ] = None,
        baseline_file: Annotated[
            Path | None, typer.Option(help="Compare with a previous run's perf.json.")
        ] = None,
        threshold: Annotated[
            float, typer.Option(help="Slowdown that fails the gate (0.10 = 10 %).")
        ] = 0.10,
        alpha: Annotated[
            float, typer.Option(help="Significance level of the Mann-Whitney U test.")
        ] = 0.01,
        out: Annotated[Path, typer.Option(help="Folder for the four outputs.")] = Path("out/perf"),
        store: StoreOption = DEFAULT_STORE_TEXT,
        store_password_file: StorePasswordFileOption = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="Do not store the run.")] = False,
        timeout: Annotated[
            float, typer.Option(help="Seconds to wait for the player to connect or answer.")
        ] = 60.0,
        port: Annotated[
            int | None, typer.Option(help="ML-Agents port (default: free port; editor: 5004).")
        ] = None,
        no_graphics: Annotated[
            bool, typer.Option("--no-graphics", help="Launch the player with -nographics.")
        ] = False,
    ) -> None:
        """Run each model x resolution of PLAN in the player; compare with Python and a baseline.

        Arguments after `--` are passed to the player.
        """
        from rich.console import Console

        from stylebridge.errors import StyleBridgeError
        from stylebridge.harness.gate import GateConfig
        from stylebridge.harness.launch import LaunchConfig
        from stylebridge.harness.outputs import markdown_table
        from stylebridge.harness.perf_test import PerfExit, PerfTestConfig, run_perf_test

        console = Console(stderr=True)
        location = None if no_store else resolve_store(store, store_password_file)
        try:
            config = PerfTestConfig(
                label=label,
                out=out,
                plan=plan,
                catalog=catalog,
                store=location,
                baseline_label=baseline,
                baseline_file=baseline_file,
                gate=GateConfig(threshold=threshold, alpha=alpha),
                launch=LaunchConfig(
                    player=player,
                    port=port,
                    timeout_s=timeout,
                    no_graphics=no_graphics,
                    extra_args=tuple(ctx.args),
                ),
            )
            with console.status("perf-test") as status:
                outcome = run_perf_test(config, progress=lambda text: status.update(text))
        except StyleBridgeError as exc:
            console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(int(PerfExit.BAD_INPUT)) from exc
        typer.echo(markdown_table(outcome.run))
        paths = outcome.outputs
        console.print(
            f"wrote {paths.json}, {paths.junit}, {paths.markdown}, {paths.plot}"
            + ("" if location is None else f"; stored as {label!r} in {location.where}")
        )
        style = "green" if outcome.exit_code is PerfExit.OK else "bold red"
        console.print(f"[{style}]{outcome.message}[/]", markup=True, highlight=False)
        raise typer.Exit(int(outcome.exit_code))

"""`pillctl flash`: compile the firmware, deploy it with mpremote, restart, verify."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from pillctl.clocksync import format_epoch
from pillctl.commands.common import port_option
from pillctl.flashing import BOARDS, flash
from pillctl.ports import resolve_port


@click.command(name="flash")
@click.option(
    "--board",
    type=click.Choice(BOARDS),
    help="Board file to deploy (default: the board the running firmware reports).",
)
@port_option
def flash_command(board: str | None, port: str) -> None:
    """Compile the firmware with mpy-cross, deploy it with mpremote, restart and verify."""
    path = resolve_port(port)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("deploying"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        console=console,
        transient=True,
        # Scripts and logs get the one summary line only, not bar remnants.
        disable=not console.is_terminal,
    )
    task = progress.add_task("deploy", total=None)
    with progress, tempfile.TemporaryDirectory(prefix="pillctl-flash-") as workdir:
        result = flash(
            path,
            board,
            Path(workdir),
            on_start=lambda total: progress.update(task, total=total),
            on_copied=lambda done: progress.update(task, completed=done),
            on_hold=lambda line: console.print(f"pillctl: {line}"),
        )
    hello = result.hello
    click.echo(
        f"flashed {path}: {result.board}, firmware {hello['fw']}, {result.files} files "
        f"({result.size / 1024:.1f} KB), clock {format_epoch(result.clock.after)}, "
        f"in {result.seconds:.1f} s"
    )

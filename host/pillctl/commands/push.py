"""`pillctl push FILE`: validate, compile, send, verify the hash the device reports."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from pillctl.commands.common import connect, port_option, timeout_option
from pillctl.schedule import compile_file
from pillctl.transfer import push_schedule


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@port_option
@timeout_option
def push(file: Path, port: str, timeout: float) -> None:
    """Install the schedule FILE on the dispenser. A schedule with errors never leaves the host."""
    data = compile_file(file)  # raises with the first error before anything is sent
    started = time.monotonic()
    console = Console(stderr=True)
    # No bar when piped: a transient bar would leave a blank line behind.
    progress = Progress(transient=True, console=console, disable=not console.is_terminal)
    with connect(port, timeout) as device, progress:
        task = progress.add_task("sending schedule", total=len(data))
        reply = push_schedule(
            device, data, lambda done, _total: progress.update(task, completed=done)
        )
    elapsed_ms = (time.monotonic() - started) * 1000
    click.echo(
        f"installed {reply['name']} on {device.hello.get('id')}: sha256 {reply['sha256'][:16]}…, "
        f"{len(data)} bytes, {elapsed_ms:.0f} ms"
    )

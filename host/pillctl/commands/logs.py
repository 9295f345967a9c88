"""`pillctl logs`: pull the device's log into the local store, and export it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from dispenser.core import protocol
from pillctl.commands.common import connect, port_option, timeout_option
from pillctl.device import DeviceError
from pillctl.errors import PillctlError
from pillctl.history import DeviceHistory
from pillctl.names import Names
from pillctl.outputs import write_output
from pillctl.transfer import fetch_schedule, read_log_batches


def pull(device, history: DeviceHistory) -> tuple[int, int]:
    """Store every record the device has after the local store's last one.

    Returns (records added, last seq). A dropped connection keeps what was stored, and says
    so: the next pull resumes after it.
    """
    added = 0
    try:
        history.save_schedule(fetch_schedule(device))
    except DeviceError as exc:
        if exc.code != protocol.E_REFUSED:  # refused: no schedule installed yet
            raise
    console = Console(stderr=True)
    # No bar when piped: a transient bar would leave a blank line behind.
    with Progress(transient=True, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("pulling log", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            for batch in read_log_batches(device, history.last_seq(), advance):
                added += history.add_records(batch)
        except PillctlError as exc:
            raise PillctlError(
                f"{exc} ({added} new records were saved; run `pillctl logs` again to resume)"
            ) from exc
    return added, history.last_seq()


@click.command()
@port_option
@timeout_option
@click.option(
    "--since",
    type=click.IntRange(min=0),
    help="Only records after sequence N: printed readable, or exported with --format/-o.",
)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Export format.")
@click.option(
    "-o", "output", type=click.Path(dir_okay=False, path_type=Path), help="Export to FILE."
)
def logs(
    port: str, timeout: float, since: int | None, fmt: str | None, output: Path | None
) -> None:
    """Pull new log records from the dispenser, then optionally export them."""
    with connect(port, timeout) as device:
        history = DeviceHistory(device.hello["id"])
        added, last = pull(device, history)
    click.echo(f"pulled {added} new records (last seq {last}) into {history.path}", err=True)
    if fmt is None and output is None:
        if since is not None:  # --since alone: show those records, readable, rather than nothing
            saved = history.schedules()
            names = Names(saved[-1] if saved else None)
            for record in history.records():
                if record["seq"] > since:
                    click.echo(names.line(record))
        return
    fmt = fmt or ("csv" if output and output.suffix == ".csv" else "jsonl")
    if output is None:
        history.export(fmt, sys.stdout, since=since or 0)
        return
    buffer = io.StringIO()
    history.export(fmt, buffer, since=since or 0)
    write_output(output, buffer.getvalue().encode())
    click.echo(f"exported to {output}", err=True)

"""`pillctl push FILE`: validate, compile, send, verify the hash the device reports; a
schedule that overrides a safety rule waits for a button hold on the device."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from pillctl.commands.common import connect, port_option, timeout_option
from pillctl.schedule import compile_file
from pillctl.transfer import await_confirmation, push_schedule


def _ask_for_the_hold(reply: dict) -> None:
    confirm = reply["confirm"]
    click.echo(
        f"{reply['name']} overrides {', '.join(confirm['rules'])}, signed by "
        f"{', '.join(confirm['signers'])}. A person at the dispenser must confirm it: hold its "
        f"button for {confirm['hold_ms'] / 1000:g} s within {confirm['left']} s, while the "
        "status LED blinks long-short-short. Until then the old schedule stays."
    )


def _wait_for_the_hold(device, reply: dict, console: Console) -> None:
    window = reply["confirm"]["left"]
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[left]} s"))
    with Progress(*columns, transient=True, console=console) as progress:
        task = progress.add_task("waiting for the button hold", total=window, left=window)

        def waiting(confirm: dict) -> None:
            progress.update(task, completed=window - confirm["left"], left=confirm["left"])

        await_confirmation(device, reply["confirm"], waiting)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--confirm-seconds",
    type=click.IntRange(1, 60),
    default=None,
    help="Wait this long (at most the device's 60 s) for the button hold an override needs.",
)
@port_option
@timeout_option
def push(file: Path, confirm_seconds: int | None, port: str, timeout: float) -> None:
    """Install the schedule FILE on the dispenser. A schedule with errors never leaves the host;
    one that overrides a safety rule is installed only after a button hold on the device."""
    data = compile_file(file)  # raises with the first error before anything is sent
    started = time.monotonic()
    console = Console(stderr=True)
    # No bar when piped: a transient bar would leave a blank line behind.
    progress = Progress(transient=True, console=console, disable=not console.is_terminal)
    with connect(port, timeout) as device:
        with progress:
            task = progress.add_task("sending schedule", total=len(data))
            reply = push_schedule(
                device,
                data,
                lambda done, _total: progress.update(task, completed=done),
                confirm_seconds,
            )
        if "confirm" in reply:
            _ask_for_the_hold(reply)
            _wait_for_the_hold(device, reply, console)
            click.echo("confirmed at the dispenser")
    elapsed_ms = (time.monotonic() - started) * 1000
    click.echo(
        f"installed {reply['name']} on {device.hello.get('id')}: sha256 {reply['sha256'][:16]}…, "
        f"{len(data)} bytes, {elapsed_ms:.0f} ms"
    )

"""`pillctl maintenance`: open the running dispenser's maintenance REPL, with a hold."""

from __future__ import annotations

import click

from pillctl.commands.common import port_option
from pillctl.ports import resolve_port
from pillctl.unlock import open_maintenance


@click.command()
@port_option
def maintenance(port: str) -> None:
    """Open the maintenance REPL (mpremote) after a 2 s hold of the device's button."""
    path = resolve_port(port)
    seconds = open_maintenance(path, lambda line: click.echo(f"pillctl: {line}", err=True))
    click.echo(
        f"{path}: maintenance REPL open for {seconds} s (dispensing stopped); use "
        f"`mpremote connect {path} resume ...`, then `pillctl status` brings the app back"
    )

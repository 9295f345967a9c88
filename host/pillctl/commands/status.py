"""`pillctl status`: what the dispenser says about itself."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from pillctl.clocksync import device_time, format_epoch
from pillctl.commands.common import connect, json_option, port_option, print_json, timeout_option


def _clock_text(hello: dict) -> str:
    t = device_time(hello)
    return "unknown: run `pillctl time sync`" if t is None else format_epoch(t)


@click.command()
@port_option
@json_option
@timeout_option
def status(port: str, as_json: bool, timeout: float) -> None:
    """Show the dispenser's firmware, board, id and clock."""
    with connect(port, timeout) as device:
        hello = device.hello
    if as_json:
        print_json({"port": device.port, "hello": hello})
        return
    table = Table(show_header=False, box=None)
    table.add_row("port", device.port)
    table.add_row("board", str(hello.get("board")))
    table.add_row("device id", str(hello.get("id")))
    table.add_row("firmware", f"{hello.get('fw')} (protocol {hello.get('proto')})")
    table.add_row("clock", _clock_text(hello))
    table.add_row("last reset", str(hello.get("reset")))
    Console().print(table)

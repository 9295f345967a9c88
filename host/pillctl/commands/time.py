"""`pillctl time sync`: set the device clock from the host's UTC time."""

from __future__ import annotations

import click

from pillctl.clocksync import format_epoch, sync_clock
from pillctl.commands.common import connect, json_option, port_option, print_json, timeout_option


@click.group(name="time")
def time_group() -> None:
    """The device clock."""


@time_group.command()
@port_option
@json_option
@timeout_option
def sync(port: str, as_json: bool, timeout: float) -> None:
    """Set the device clock to the host's current UTC time."""
    with connect(port, timeout) as device:
        result = sync_clock(device)
    if as_json:
        print_json({"port": device.port, **result.as_dict()})
        return
    offset = "was unknown" if result.offset is None else f"was off by {result.offset:+d} s"
    click.echo(f"{device.port}: clock {offset}")
    click.echo(f"  before: {format_epoch(result.before)}")
    click.echo(f"  after:  {format_epoch(result.after)}")

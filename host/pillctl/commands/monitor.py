"""`pillctl monitor`: the dispenser's events, live, until Ctrl-C, in the schedule's words."""

from __future__ import annotations

import json

import click

from pillctl.commands.common import (
    connect,
    installed_schedule,
    json_option,
    port_option,
    timeout_option,
)
from pillctl.names import Names


def describe(event: dict, names: Names) -> str:
    return names.line(event)


def as_json_line(event: dict, names: Names) -> str:
    """The event as the device sent it, plus `local` time and `names`: one line per event."""
    named = {**event, "names": names.describe(event)}
    if event.get("t"):
        named["local"] = names.local(event["t"], "%Y-%m-%dT%H:%M:%S%z")
    return json.dumps(named, sort_keys=True, ensure_ascii=False)


@click.command()
@port_option
@json_option
@timeout_option
def monitor(port: str, as_json: bool, timeout: float) -> None:
    """Stream the dispenser's events (presses, doses, reminders, refills) until Ctrl-C."""
    with connect(port, timeout) as device:
        names = Names(installed_schedule(device)[0])
        click.echo(
            f"monitoring {device.port} ({device.hello.get('id')}), times in "
            f"{names.zone_name()}; Ctrl-C to stop",
            err=True,
        )
        try:
            while True:
                event = device.read_event(1.0)
                if event is None:
                    continue
                click.echo(as_json_line(event, names) if as_json else describe(event, names))
        except KeyboardInterrupt:
            click.echo("monitor: stopped", err=True)

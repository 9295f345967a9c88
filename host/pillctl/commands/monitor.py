"""`pillctl monitor`: the dispenser's events, live, until Ctrl-C."""

from __future__ import annotations

from datetime import datetime

import click

from pillctl.commands.common import connect, json_option, port_option, print_json, timeout_option


def describe(event: dict) -> str:
    t = event.get("t")
    when = datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S") if t else "--"
    details = " ".join(f"{k}={v}" for k, v in event.items() if k not in ("t", "kind", "seq"))
    return f"{when}  {event.get('kind', '?'):<10} {details}".rstrip()


@click.command()
@port_option
@json_option
@timeout_option
def monitor(port: str, as_json: bool, timeout: float) -> None:
    """Stream the dispenser's events (presses, doses, reminders, refills) until Ctrl-C."""
    with connect(port, timeout) as device:
        click.echo(f"monitoring {device.port} ({device.hello.get('id')}); Ctrl-C to stop", err=True)
        try:
            while True:
                event = device.read_event(1.0)
                if event is None:
                    continue
                if as_json:
                    print_json(event)
                else:
                    click.echo(describe(event))
        except KeyboardInterrupt:
            click.echo("monitor: stopped", err=True)

"""`pillctl name NAME`: give a stored dispenser a name that reports show."""

from __future__ import annotations

import click

from pillctl.commands.report import pick_device
from pillctl.devicename import device_name, set_device_name


@click.command()
@click.argument("name", required=False)
@click.option("--device", "device_id", help="Device id (default: the only one stored).")
def name(name: str | None, device_id: str | None) -> None:
    """Name the dispenser (e.g. "Anna's kitchen"); without NAME, show its name."""
    history = pick_device(device_id)
    if name is None:
        click.echo(device_name(history) or f"{history.device_id} has no name yet")
        return
    set_device_name(history, name)
    click.echo(f"{history.device_id} is now called “{device_name(history)}”")

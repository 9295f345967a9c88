"""`pillctl report`: adherence per day and per dose from the locally stored log."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from pillctl.adherence import build_report
from pillctl.adherence_html import render_html
from pillctl.adherence_terminal import render
from pillctl.commands.common import json_option, print_json
from pillctl.errors import PillctlError
from pillctl.history import DeviceHistory, data_root, known_devices
from pillctl.outputs import write_output


def pick_device(device_id: str | None) -> DeviceHistory:
    """The stored device to report on: the one asked for, or the only one there is."""
    root = data_root()
    devices = known_devices(root)
    if device_id is not None:
        if device_id not in devices:
            stored = ", ".join(devices) or "none"
            raise PillctlError(
                f"no log stored for device {device_id} under {root} (stored: {stored}); "
                "run `pillctl logs` with it connected"
            )
        return DeviceHistory(device_id, root)
    if not devices:
        raise PillctlError(f"no device logs stored under {root}: run `pillctl logs` first")
    if len(devices) > 1:
        raise PillctlError(
            f"several devices are stored ({', '.join(devices)}): pick one with --device"
        )
    return DeviceHistory(devices[0], root)


@click.command()
@click.option("--device", "device_id", help="Device id (default: the only one stored).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report to FILE.",
)
@click.option("--days", type=click.IntRange(min=1), help="Only the last N days of the log.")
@json_option
def report(device_id: str | None, html_path: Path | None, days: int | None, as_json: bool) -> None:
    """Show adherence per day and per dose from the log `pillctl logs` stored."""
    result = build_report(pick_device(device_id), days)
    if html_path is not None:
        write_output(html_path, render_html(result).encode())
    if as_json:
        print_json(result.as_json())
        return
    render(result, Console(highlight=False))
    if html_path is not None:
        click.echo(f"wrote {html_path}")

"""Options shared by the commands that talk to a dispenser."""

from __future__ import annotations

import json
from typing import Any

import click

from pillctl.device import DEFAULT_TIMEOUT_S, Device, open_device
from pillctl.ports import resolve_port

port_option = click.option(
    "--port",
    default="auto",
    show_default=True,
    help="Serial port PATH, or auto: $PILLCTL_PORT, else the one USB board (VID 0x2E8A).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
timeout_option = click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait for each answer.",
)


def connect(port: str, timeout: float = DEFAULT_TIMEOUT_S) -> Device:
    return open_device(resolve_port(port), timeout)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))

"""Options shared by the commands that talk to a dispenser."""

from __future__ import annotations

import json
from typing import Any

import click

from dispenser.core import protocol
from dispenser.core.schedule import Schedule, ScheduleError, parse
from pillctl.device import DEFAULT_TIMEOUT_S, Device, DeviceError, NoAnswerError, open_device
from pillctl.errors import PillctlError
from pillctl.maintenance import recover
from pillctl.ports import resolve_port
from pillctl.schedule.refusal import explain
from pillctl.transfer import fetch_schedule

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


def restart_allowed() -> bool:
    """False under `pillctl --no-restart`: leave a board found in its REPL there."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return not (obj or {}).get("no_restart", False)


def connect(port: str, timeout: float = DEFAULT_TIMEOUT_S) -> Device:
    """The dispenser on `port`; one found in its maintenance REPL is brought back first."""
    path = resolve_port(port)
    try:
        return open_device(path, timeout)
    except NoAnswerError:
        if not recover(path, restart_allowed()):
            raise
    return open_device(path, timeout)


def installed_schedule(device: Device) -> tuple[dict | None, Schedule | None]:
    """The compiled schedule the device runs, as JSON and as the firmware's own Schedule;
    (None, None) when it has none."""
    try:
        data = fetch_schedule(device)
    except DeviceError as exc:
        if exc.code != protocol.E_REFUSED:  # refused: no schedule installed
            raise
        return None, None
    try:
        return json.loads(data), parse(data)
    except (ValueError, ScheduleError) as exc:
        why = explain(exc, data) if isinstance(exc, ScheduleError) else exc
        raise PillctlError(
            f"the device's schedule does not read back intact ({why}): push it again"
        ) from exc


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))

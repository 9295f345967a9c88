"""`pillctl status`: clock, schedule, today's open doses, stock and errors of a dispenser."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from pillctl.clocksync import device_time, format_epoch
from pillctl.commands.common import connect, json_option, port_option, print_json, timeout_option
from pillctl.commands.network import net_status_line


def _clock_text(hello: dict) -> str:
    t = device_time(hello)
    return "unknown: run `pillctl time sync`" if t is None else format_epoch(t)


def _local(t: int, zone: ZoneInfo | None) -> str:
    """The schedule's local time, where the dose is taken (the host's zone if unknown)."""
    return datetime.fromtimestamp(t, zone).astimezone(zone).strftime("%H:%M")


def _zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def render(port: str, status: dict) -> Panel:
    about = Table(show_header=False, box=None)
    about.add_row("port", port)
    about.add_row("board", f"{status.get('board')}  id {status.get('id')}")
    about.add_row("firmware", f"{status.get('fw')} (protocol {status.get('proto')})")
    about.add_row("clock", _clock_text(status))
    about.add_row("last reset", str(status.get("reset")))
    log = status.get("log") or {}
    about.add_row("log", f"records {log.get('first')}..{log.get('last')}, "
                  f"{log.get('bytes')} of {log.get('budget')} bytes")  # fmt: skip
    if "net" in status:
        about.add_row("alerts", net_status_line(status["net"]))
    schedule = status.get("schedule")
    if schedule is None:
        about.add_row("schedule", "none installed: run `pillctl push FILE`")
        return Panel(about, title="dispenser")
    about.add_row("schedule", f"{schedule['name']}  sha256 {schedule['sha256'][:16]}…")
    about.add_row("state", f"{status.get('state')} (reminder level {status.get('level')})")
    zone = _zone(schedule.get("tz"))
    doses = Table(
        title=f"still due today ({schedule.get('tz') or 'host time'})", title_justify="left"
    )
    for column in ("dose", "meal", "window", "reminder"):
        doses.add_column(column)
    for dose_id, slot, opens, starts, closes in status.get("pending", []):
        window = f"{_local(opens, zone)}-{_local(closes, zone)}"
        doses.add_row(dose_id, slot, window, _local(starts, zone))
    stock = Table(title="compartments", title_justify="left")
    for column in ("id", "hopper", "pills", "state"):
        stock.add_column(column)
    for comp in status.get("compartments", []):
        state = "JAMMED" if comp["jammed"] else "low" if comp["low"] else "ok"
        pills = "unknown" if comp["stock"] is None else str(comp["stock"])
        stock.add_row(comp["id"], str(comp["hopper"]), pills, state)
    return Panel(Group(about, doses, stock), title="dispenser")


@click.command()
@port_option
@json_option
@timeout_option
def status(port: str, as_json: bool, timeout: float) -> None:
    """Show the dispenser's clock, schedule, today's open doses and stock."""
    with connect(port, timeout) as device:
        hello = device.hello
        full = device.request("status")
    if as_json:
        print_json({"port": device.port, "hello": hello, "status": full})
        return
    Console().print(render(device.port, full))

"""`pillctl status`: clock, schedule, today's open doses, stock and errors of a dispenser,
in the schedule's names and its local time."""

from __future__ import annotations

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dispenser.localtime import local_day
from dispenser.schedule import Schedule
from pillctl.clocksync import device_time, format_epoch
from pillctl.commands.common import (
    connect,
    installed_schedule,
    json_option,
    port_option,
    print_json,
    timeout_option,
)
from pillctl.commands.network import net_status_line
from pillctl.names import Names
from pillctl.runout import run_out


def _clock_text(status: dict, names: Names) -> str:
    t = device_time(status)
    if t is None:
        return "unknown: run `pillctl time sync`"
    if names.zone is None:
        return format_epoch(t)
    return f"{names.local(t, '%Y-%m-%d %H:%M:%S')} {names.tz} ({format_epoch(t)})"


def _memory_text(mem: dict | None) -> str:
    if not mem:
        return "unknown"
    free, used = mem.get("free", 0), mem.get("used", 0)
    return f"{used / 1024:.1f} KB used, {free / 1024:.1f} KB free of {(free + used) / 1024:.0f} KB"


def _due_table(status: dict, names: Names) -> Table:
    doses = Table(title=f"still due today ({names.zone_name()})", title_justify="left")
    for column in ("dose", "what", "meal", "window", "reminder"):
        doses.add_column(column)
    # Time order: the reminder start (which a spacing hold moves), then the window; the
    # schedule's order among doses of the same time (sorted() keeps it).
    pending = sorted(status.get("pending", []), key=lambda p: (p[3], p[2]))
    for dose_id, slot, opens, starts, closes in pending:
        comp = names.comps.get(names.comp_of.get(dose_id, ""))
        what = names.supplement(comp) if comp else names.item_names.get(dose_id, "reminder")
        window = f"{names.local(opens, '%H:%M')}-{names.local(closes, '%H:%M')}"
        doses.add_row(dose_id, what, names.slot(slot), window, names.local(starts, "%H:%M"))
    return doses


def _stock_table(status: dict, names: Names, sched: Schedule | None) -> Table:
    stock = Table(title="compartments", title_justify="left")
    for column in ("id", "supplement", "pills", "state"):
        stock.add_column(column)
    stock.add_column("runs out", no_wrap=True)
    t = device_time(status)
    today = local_day(sched.utc, t) if sched is not None and t is not None else None
    due_today = {p[0] for p in status.get("pending", [])}
    for comp in status.get("compartments", []):
        state = "JAMMED" if comp["jammed"] else "low" if comp["low"] else "ok"
        count = comp["stock"]
        pills = "unknown" if count is None else str(count)
        if count is not None and comp.get("cap"):
            pills += f" of {comp['cap']}"
        when = Text("after a refill" if count is None else "")
        if count is not None and sched is not None and today is not None:
            found = run_out(sched, comp["hopper"], count, today, due_today)
            if found is not None:
                when = Text(found.text(today), style="bold" if found.warn(today) else "")
        supplement = names.supplement(names.comps.get(comp["id"], {"id": comp["id"]}))
        stock.add_row(comp["id"], supplement, pills, state, when)
    return stock


def render(port: str, status: dict, compiled: dict | None, sched: Schedule | None) -> Panel:
    names = Names(compiled)
    about = Table(show_header=False, box=None)
    about.add_row("port", port)
    about.add_row("board", f"{status.get('board')}  id {status.get('id')}")
    about.add_row("firmware", f"{status.get('fw')} (protocol {status.get('proto')})")
    about.add_row("clock", _clock_text(status, names))
    about.add_row("last reset", str(status.get("reset")))
    log = status.get("log") or {}
    about.add_row("log", f"records {log.get('first')}..{log.get('last')}, "
                  f"{log.get('bytes')} of {log.get('budget')} bytes")  # fmt: skip
    if status.get("state") == "halted":  # the safe state after repeated crashes
        about.add_row("state", f"HALTED after {status.get('crashes')} crashes in a row: "
                      "`pillctl logs` shows why; unplug the dispenser to restart it")  # fmt: skip
        return Panel(about, title="dispenser")
    about.add_row("memory", _memory_text(status.get("mem")))
    confirm = status.get("confirm")
    if confirm is not None:
        about.add_row(
            "waiting",
            f"a schedule overriding {', '.join(confirm['rules'])} (signed by "
            f"{', '.join(confirm['signers'])}) needs a {confirm['hold_ms'] / 1000:g} s button "
            f"hold within {confirm['left']} s",
        )
    if "net" in status:
        about.add_row("alerts", net_status_line(status["net"]))
    schedule = status.get("schedule")
    if schedule is None or compiled is None:
        about.add_row("schedule", "none installed: run `pillctl push FILE`")
        return Panel(about, title="dispenser")
    about.add_row("schedule", f"{schedule['name']}  sha256 {schedule['sha256'][:16]}…")
    overrides = schedule.get("overrides")
    if overrides and overrides.get("applied") is False:
        about.add_row(
            "overrides",
            f"{', '.join(overrides['rules'])} NOT applied: this device holds no confirmation "
            "for this schedule, so every cap is at its normal limit; "
            "run `pillctl push FILE` and hold the button",
        )
    elif overrides:
        confirmed = overrides.get("confirmed")
        when = format_epoch(confirmed) if confirmed else "time not recorded"
        about.add_row(
            "overrides",
            f"{', '.join(overrides['rules'])} signed by {', '.join(overrides['signers'])}, "
            f"confirmed on the device {when}",
        )
    about.add_row("state", f"{status.get('state')} (reminder level {status.get('level')})")
    return Panel(
        Group(about, _due_table(status, names), _stock_table(status, names, sched)),
        title="dispenser",
    )


@click.command()
@port_option
@json_option
@timeout_option
def status(port: str, as_json: bool, timeout: float) -> None:
    """Show the dispenser's clock, schedule, today's open doses and stock."""
    with connect(port, timeout) as device:
        hello = device.hello
        full = device.request("status")
        compiled, sched = installed_schedule(device) if full.get("schedule") else (None, None)
    if as_json:
        print_json({"port": device.port, "hello": hello, "status": full})
        return
    Console().print(render(device.port, full, compiled, sched))

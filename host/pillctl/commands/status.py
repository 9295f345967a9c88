"""`pillctl status`: clock, schedule, today's open doses, stock and errors of a dispenser,
in the schedule's names and its local time."""

from __future__ import annotations

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dispenser.core import logrec
from dispenser.core.forecast import percent
from dispenser.core.localtime import local_day
from dispenser.core.schedule import Schedule
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
from pillctl.devicename import device_name
from pillctl.errors import PillctlError
from pillctl.history import DeviceHistory
from pillctl.names import Names
from pillctl.runout import RunOut
from pillctl.selftest import selftest_text


def _clock_text(status: dict, names: Names) -> str:
    t = device_time(status)
    if t is None:
        return "unknown: run `pillctl time sync`"
    if names.zone is None:
        return format_epoch(t)
    return f"{names.local(t, '%Y-%m-%d %H:%M:%S')} {names.tz} ({format_epoch(t)})"


def _board_text(status: dict) -> str:
    """The board, its id, and the name `pillctl name` gave it, as written."""
    text = f"{status.get('board')}  id {status.get('id')}"
    try:
        name = device_name(DeviceHistory(str(status.get("id"))))
    except PillctlError:  # an id no store can hold: no name either
        name = None
    return f"{text}  “{name}”" if name else text


def _memory_text(mem: dict | None) -> str:
    if not mem:
        return "unknown"
    free, used = mem.get("free", 0), mem.get("used", 0)
    return f"{used / 1024:.1f} KB used, {free / 1024:.1f} KB free of {(free + used) / 1024:.0f} KB"


def _reset_text(reset_cause: str | None) -> str:
    """The last reset in the words its BOOT record (and the MQTT `restarted` event) uses."""
    if reset_cause is None:
        return "unknown"
    return logrec.BOOT_CAUSE_NAMES[logrec.boot_cause(reset_cause)]


def _due_text(status: dict) -> Text | None:
    """Instead of an empty table of doses still due: why there are none."""
    if status.get("pending"):
        return None
    if device_time(status) is None:
        return Text("still due today: unknown until the clock is set (`pillctl time sync`)")
    return Text("still due today: nothing left for today")


def _today_text(today: dict) -> str:
    """`2 taken, 0 refused, 1 missed (67%)`: the device's tally (dispenser.core.forecast), as
    its MQTT state and the report count it."""
    taken, refused, missed = today["taken"], today["refused"], today["missed"]
    counted = percent(taken, taken + refused + missed)
    text = f"{taken} taken, {refused} refused, {missed} missed"
    return text + (f" ({counted}%)" if counted is not None else " (none due yet)")


def _hold_texts(status: dict, compiled: dict, names: Names) -> dict[str, str]:
    """Why a spacing hold moved an entry's reminder, by entry id: the rule, and what was
    taken when (the device's `held`)."""
    rules = {spacing["item"]: spacing["rule"] for spacing in compiled.get("spacing", [])}
    texts = {}
    for entry_id, until, cause, taken in status.get("held", []):
        rule = rules.get(entry_id) or rules.get(cause, "spacing")
        texts[entry_id] = (
            f"held until {names.local(until, '%H:%M')}: {rule}, {cause} taken at "
            f"{names.local(taken, '%H:%M')}"
        )
    return texts


def _due_table(status: dict, compiled: dict, names: Names) -> Table:
    doses = Table(title=f"still due today ({names.zone_name()})", title_justify="left")
    for column in ("dose", "what", "meal", "window", "reminder"):
        doses.add_column(column)
    # Time order: the reminder start (which a spacing hold moves), then the window; the
    # schedule's order among doses of the same time (sorted() keeps it).
    pending = sorted(status.get("pending", []), key=lambda p: (p[3], p[2]))
    holds = _hold_texts(status, compiled, names)
    for dose_id, slot, opens, starts, closes in pending:
        what = names.what(dose_id)
        window = f"{names.local(opens, '%H:%M')}-{names.local(closes, '%H:%M')}"
        reminder = names.local(starts, "%H:%M")
        if dose_id in holds:
            reminder += f" ({holds[dose_id]})"
        doses.add_row(dose_id, what, names.slot(slot), window, reminder)
    return doses


def _stock_table(status: dict, names: Names, sched: Schedule | None) -> Table:
    stock = Table(title="compartments", title_justify="left")
    for column in ("id", "supplement", "pills", "state"):
        stock.add_column(column)
    stock.add_column("runs out", no_wrap=True)
    t = device_time(status)
    today = local_day(sched.utc, t) if sched is not None and t is not None else None
    for comp in status.get("compartments", []):
        state = "JAMMED" if comp["jammed"] else "low" if comp["low"] else "ok"
        count = comp["stock"]
        pills = "unknown" if count is None else str(count)
        if count is not None and comp.get("cap"):
            pills += f" of {comp['cap']}"
        # Why there is no date yet: no count to go from, or no day to start counting on.
        when = Text("after a refill" if count is None else "once the clock is set")
        if count is not None and today is not None:
            when = Text("")  # firmware older than the device's own forecast
            if "runs_out" in comp:
                # the device's own forecast (dispenser.core.forecast), as its MQTT state says it
                found = RunOut.from_text(comp["runs_out"])
                when = Text(found.text(today), style="bold" if found.warn(today) else "")
        supplement = names.supplement(names.comps.get(comp["id"], {"id": comp["id"]}))
        stock.add_row(comp["id"], supplement, pills, state, when)
    return stock


def _bench_rows(about: Table, status: dict) -> None:
    """Each hopper's servo calibration and the last self-test (`pillctl calibrate`,
    `pillctl selftest`)."""
    servos = status.get("servos")
    if servos:
        about.add_row(
            "servos",
            ", ".join(f"{h}: rest {r} / drop {d} us" for h, (r, d) in enumerate(servos)),
        )
    last = status.get("selftest")
    about.add_row("self-test", "never run: `pillctl selftest`" if last is None
                  else selftest_text(*last))  # fmt: skip


def render(port: str, status: dict, compiled: dict | None, sched: Schedule | None) -> Panel:
    names = Names(compiled)
    about = Table(show_header=False, box=None)
    about.add_row("port", port)
    about.add_row("board", _board_text(status))
    about.add_row("firmware", f"{status.get('fw')} (protocol {status.get('proto')})")
    about.add_row("clock", _clock_text(status, names))
    about.add_row("last reset", _reset_text(status.get("reset")))
    log = status.get("log") or {}
    about.add_row("log", f"records {log.get('first')}..{log.get('last')}, "
                  f"{log.get('bytes')} of {log.get('budget')} bytes")  # fmt: skip
    if status.get("state") == "halted":  # the safe state after repeated crashes
        about.add_row("state", f"HALTED after {status.get('crashes')} crashes in a row: "
                      "`pillctl logs` shows why; unplug the dispenser to restart it")  # fmt: skip
        return Panel(about, title="dispenser")
    about.add_row("memory", _memory_text(status.get("mem")))
    _bench_rows(about, status)
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
    if "today" in status:
        about.add_row("today", _today_text(status["today"]))
    return Panel(
        Group(
            about,
            _due_text(status) or _due_table(status, compiled, names),
            _stock_table(status, names, sched),
        ),
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

"""`pillctl demo`: the dispenser's story on a simulated board, start to finish.

The story is the same whatever the time of day it runs: the simulated week starts on the
Monday after today at 00:05 in the schedule's zone, the schedule is pushed then (so no dose
of the install day was ever due before), and every press is timed from the schedule's own
slots. Its board, log store and report stay in one folder, named at the end with the exact
command that shows the report again.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from pillctl.adherence import MISSED as MISSED_STATUS
from pillctl.adherence import build_report, day_date
from pillctl.errors import PillctlError
from pillctl.history import DATA_ENV, DeviceHistory, known_devices
from pillctl.names import Names
from pillctl.sim.control import SimControl
from pillctl.sim.process import SimProcess

# soft_wrap: a printed command is never broken over lines, piped or not, so it can be copied.
console = Console(soft_wrap=True, highlight=False)
DAYS = 7
MISSED = (2, "dinner")  # (day index, slot id) the demo's user forgets: Wednesday's dinner
START_MINUTE = 5  # the week starts at 00:05 local: no window is open yet
MARKER = ".pillctl-demo"  # marks a folder the demo made, so it may clear it on the next run
REPO = Path(__file__).resolve().parents[3]
DEMO_NAME = "Demo dispenser"


def say(step: str) -> None:
    console.print(f"\n[bold cyan]demo:[/] {step}")


def pillctl_command() -> str:
    """How to run pillctl from here: the venv's script (relative when below the current
    folder), else `python -m pillctl`."""
    script = Path(sys.executable).with_name("pillctl")
    if not script.exists():
        return f"{shlex.quote(sys.executable)} -m pillctl"
    try:
        return shlex.quote(str(script.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(script))


def pillctl(*args: str, env: dict[str, str] | None = None) -> None:
    """Run a pillctl command as a user would, showing the command and its output."""
    shown = " ".join(shlex.quote(a) for a in args)
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    console.print(f"[dim]$ {prefix + ' ' if prefix else ''}pillctl {shown}[/]")
    result = subprocess.run(
        [sys.executable, "-m", "pillctl", *args], text=True, env={**os.environ, **(env or {})}
    )
    if result.returncode != 0:
        raise PillctlError(f"demo step `pillctl {args[0]}` failed (exit {result.returncode})")


def press_and_wait(control: SimControl) -> list[int]:
    """Press, wait until the servos have been released for a moment (between the pills of
    one press they rest briefly), and return the hoppers that dropped a pill."""
    since = control.press()
    deadline = time.monotonic() + 15
    quiet_since = None
    while time.monotonic() < deadline:
        time.sleep(0.1)  # polling the board's own servo state, not waiting blindly
        if not control.servos_released():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.4:
            break
    return [int(name.split(".")[1]) for name in control.servo_moves(since)]


def first_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def local_time(day: date, minute: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minute)


def run_week(control: SimControl, names: Names, compiled: dict, first_day: date) -> None:
    zone = ZoneInfo(compiled["tz"])
    for day_index in range(DAYS):
        day = first_day + timedelta(days=day_index)
        for slot in compiled["slots"]:
            local = local_time(day, slot["at"] + 5, zone)
            control.step_to(local.timestamp())
            meal = names.slot(slot["id"])
            if (day_index, slot["id"]) == MISSED:
                console.print(f"  {day:%a %Y-%m-%d} {meal:>9}: [yellow]no press (forgotten)[/]")
                continue
            dropped = [names.compartment_id(h) for h in press_and_wait(control)]
            console.print(
                f"  {day:%a %Y-%m-%d} {meal:>9}: pressed at {local:%H:%M}, "
                f"dropped {', '.join(dropped) or 'nothing'}"
            )
        control.step_to(local_time(day, 1439, zone).timestamp())


def prepare(workdir: Path) -> Path:
    """The demo's folder, emptied of a previous run (only one the demo made itself)."""
    workdir = workdir.resolve()
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).exists():
            raise PillctlError(
                f"{workdir} is not empty and not a folder the demo made: pass --workdir DIR"
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("made by `pillctl demo`; it clears this folder when run again\n")
    return workdir


def closing(data: Path, html: Path, names: Names) -> None:
    """What the report found, in the schedule's words, and how to see it again."""
    [device] = known_devices(data)
    report = build_report(DeviceHistory(device, data))
    missed = [i for d in report.days for i in d.instances if i.status == MISSED_STATUS]
    say(f"the week in one line: {report.overall()}: {report.summary()}")
    for inst in missed:
        comp = names.comps.get(names.comp_of.get(inst.entry_id, ""))
        what = f" ({names.supplement(comp)})" if comp else ""
        console.print(
            f"  missed: {inst.entry_id}{what} at {names.slot(inst.slot_id)} on "
            f"{day_date(inst.day):%A %Y-%m-%d}"
        )
    console.print(f"  the demo's files: {data.parent}")
    console.print(
        f"  the report again: {DATA_ENV}={shlex.quote(str(data))} {pillctl_command()} report"
    )
    console.print(f"  the page to print: {html}")


@click.command()
@click.option(
    "--schedule",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=REPO / "schedules" / "bone-health.toml",
    help="Schedule to run on the simulated board (default: schedules/bone-health.toml).",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pillctl-demo"),
    show_default=True,
    help="Folder for the board, the log store and the report; cleared at the next demo.",
)
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the HTML report (default: WORKDIR/report.html).",
)
def demo(schedule: Path, workdir: Path, html: Path | None) -> None:
    """Run the dispenser story on a simulated board, with no hardware."""
    started = time.monotonic()
    base = prepare(workdir)
    html = (html or base / "report.html").resolve()
    say("checking the schedule against the supplement safety rules")
    pillctl("validate", str(schedule))
    compiled_path = base / "schedule.json"
    pillctl("compile", str(schedule), "-o", str(compiled_path))
    compiled = json.loads(compiled_path.read_text())
    names = Names(compiled)
    store = {DATA_ENV: str(base / "data")}  # apart from a real dispenser's log store

    say("starting a blank simulated board: the MicroPython unix port behind a pty")
    with SimProcess(base / "board", "--blank", "--speed", "0") as board:
        assert board.control is not None
        console.print(f"  serial port {board.port}")
        say("flashing the firmware onto it (mpy-cross + mpremote), which also sets the clock")
        pillctl("flash", "--board", "sim", "--port", board.port)
        say("syncing the board's clock with this computer")
        pillctl("time", "sync", "--port", board.port)

        first_day = first_monday(date.today())
        start = local_time(first_day, START_MINUTE, ZoneInfo(compiled["tz"]))
        say(f"moving the simulated clock to {start:%A %Y-%m-%d %H:%M} {compiled['tz']}")
        board.control.step_to(start.timestamp())
        say("pushing the schedule; the board checks it again and installs it atomically")
        pillctl("push", str(schedule), "--port", board.port)
        say("filling the hoppers")
        for compartment in compiled["comp"]:
            pillctl("refill", compartment["id"], str(compartment["cap"]), "--port", board.port)
        pillctl("status", "--port", board.port)

        meal = names.slot(MISSED[1])
        say(f"a simulated week: a press at every meal, except {meal} on day {MISSED[0] + 1}")
        run_week(board.control, names, compiled, first_day)

        say("pulling the log into the demo's own store, naming the dispenser, the report")
        pillctl("logs", "--port", board.port, env=store)
    pillctl("name", DEMO_NAME, env=store)
    pillctl("report", "--html", str(html), env=store)
    closing(Path(store[DATA_ENV]), html, names)
    say(f"done in {time.monotonic() - started:.0f} s")

"""`pillctl demo`: the dispenser's story on a simulated board, start to finish."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from dispenser import logrec
from dispenser.logstore import LogStore
from pillctl.errors import PillctlError
from pillctl.sim.process import SimProcess

console = Console()
DAYS = 7
MISSED = (2, "dinner")  # (day index, slot id) the demo's user forgets


def say(step: str) -> None:
    console.print(f"\n[bold cyan]demo:[/] {step}")


def pillctl(*args: str) -> None:
    """Run a pillctl command as a user would, showing its output."""
    console.print(f"[dim]$ pillctl {' '.join(args)}[/]")
    result = subprocess.run([sys.executable, "-m", "pillctl", *args], text=True)
    if result.returncode != 0:
        raise PillctlError(f"demo step `pillctl {args[0]}` failed (exit {result.returncode})")


def wait_until_idle(board: SimProcess, since: int) -> None:
    """Wait until the press has been handled and every servo is released again."""
    assert board.control is not None
    deadline = time.monotonic() + 15
    time.sleep(0.4)
    while time.monotonic() < deadline:
        outputs = board.control.state()["outputs"]
        if all(outputs.get(f"servo.{h}", "0") == "0" for h in range(3)):
            time.sleep(0.3)
            outputs = board.control.state()["outputs"]
            if all(outputs.get(f"servo.{h}", "0") == "0" for h in range(3)):
                return
        time.sleep(0.1)


def run_week(board: SimProcess, compiled: dict, first_day: date) -> None:
    assert board.control is not None
    zone = ZoneInfo(compiled["tz"])
    for day_index in range(DAYS):
        day = first_day + timedelta(days=day_index)
        for slot in compiled["slots"]:
            local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
                minutes=slot["at"] + 5
            )
            board.control.step_to(local.timestamp())
            if (day_index, slot["id"]) == MISSED:
                console.print(f"  {day} {slot['id']:>9}: [yellow]no press (forgotten)[/]")
                continue
            since = board.control.press()
            wait_until_idle(board, since)
            console.print(f"  {day} {slot['id']:>9}: pressed at {local:%H:%M}")
        end_of_day = datetime(day.year, day.month, day.day, 23, 59, tzinfo=zone)
        board.control.step_to(end_of_day.timestamp())


def report(fs: Path) -> None:
    per_day: dict[str, Counter] = {}
    for record in LogStore(str(fs / "log")).records():
        entry = logrec.as_dict(record)
        if entry["kind"] in ("dispense", "missed", "refused", "jam") and entry["t"]:
            day = datetime.fromtimestamp(entry["t"], UTC).date().isoformat()
            per_day.setdefault(day, Counter())[entry["kind"]] += 1
    table = Table(title="adherence from the device log")
    for column in ("day", "dispensed", "missed", "refused", "jam"):
        table.add_column(column)
    for day, counts in sorted(per_day.items()):
        table.add_row(day, *(str(counts[k]) for k in ("dispense", "missed", "refused", "jam")))
    console.print(table)


@click.command()
@click.option(
    "--schedule",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("schedules/bone-health.toml"),
    show_default=True,
    help="Schedule to run on the simulated board.",
)
@click.option("--workdir", type=click.Path(path_type=Path), help="Keep the board's files here.")
def demo(schedule: Path, workdir: Path | None) -> None:
    """Run the dispenser story on a simulated board, with no hardware."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pillctl-demo-") as tmp:
        base = workdir or Path(tmp)
        say("checking the schedule against the supplement safety rules")
        pillctl("validate", str(schedule))
        compiled_path = base / "schedule.json"
        pillctl("compile", str(schedule), "-o", str(compiled_path))
        compiled = json.loads(compiled_path.read_text())

        say("starting a blank simulated board: the MicroPython unix port behind a pty")
        with SimProcess(base / "board", "--blank", "--speed", "0") as board:
            console.print(f"  serial port {board.port}")
            say("flashing the firmware onto it (mpy-cross + mpremote), which also sets the clock")
            pillctl("flash", "--board", "sim", "--port", board.port)

            say("pushing the schedule; the board checks it again and installs it atomically")
            pillctl("push", str(schedule), "--port", board.port)
            say("filling the hoppers")
            for compartment in compiled["comp"]:
                pillctl("refill", compartment["id"], str(compartment["cap"]), "--port", board.port)
            pillctl("status", "--port", board.port)

            first_day = date.today() + timedelta(days=1)
            say(f"a simulated week from {first_day}: presses at meals, one dinner forgotten")
            run_week(board, compiled, first_day)

            say("the log, read from the board's flash")
            report(board.fs)
    say(f"done in {time.monotonic() - started:.0f} s")

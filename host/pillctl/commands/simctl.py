"""`pillctl sim press|time|power|wifi`: drive a running simulated board from the shell,
through its control channel (host/pillctl/sim/control.py), as a person at the board would:
press its button, move its clock, pull its plug, take its Wi-Fi away."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import click

from pillctl.errors import PillctlError
from pillctl.sim.control import LONG_PRESS_MS, SHORT_PRESS_MS, SimControl

_DURATION = re.compile(r"^\+(\d+)(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STEP_TIMEOUT_S = 600  # a fast-forward over days of reminders takes seconds; this is ample


def control_path(fs: Path, control: Path | None) -> Path:
    """The control socket of the sim whose flash is `fs`: `--control`, else `FS.control`
    beside the flash folder (where `pillctl sim` puts it)."""
    if control is not None:
        return control
    fs = fs.resolve()
    return fs.parent / f"{fs.name}.control"


fs_option = click.option(
    "--fs",
    type=click.Path(path_type=Path),
    help="The sim's flash folder, as given to `pillctl sim` (finds its control socket; "
    "default sim-fs).",
)
control_option = click.option(
    "--control", type=click.Path(path_type=Path), help="The control socket (default: beside --fs)."
)


def _open(fs: Path | None, control: Path | None) -> SimControl:
    """The control channel named by the subcommand's --fs/--control, else by those given
    before it (`pillctl sim --fs X press`), else the default `sim-fs`'s."""
    parent = click.get_current_context().parent
    assert parent is not None  # the `pillctl sim` group, whose --fs defaults to sim-fs
    control = control or parent.params.get("control")
    board_fs: Path = fs or parent.params["fs"]
    path = control_path(board_fs, control)
    if not path.exists():
        raise PillctlError(
            f"no simulated board at {path}: start one with `pillctl sim --fs {board_fs}` "
            "(or give its --control socket)"
        )
    return SimControl(path, timeout=STEP_TIMEOUT_S + 10)


def _when(text: str, now: float | None) -> float:
    """UTC epoch seconds of an ISO time (UTC unless it names an offset) or of `+90s`,
    `+10m`, `+2h`, `+1d` from the sim's clock."""
    duration = _DURATION.match(text)
    if duration:
        if now is None:
            raise PillctlError(f"{text}: the sim's clock is unknown; give an ISO time")
        return now + int(duration.group(1)) * _UNIT_S[duration.group(2)]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PillctlError(
            f"{text!r} is no time: give an ISO time (2026-12-08T19:28:30Z) or +90s/+10m/+2h/+1d"
        ) from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _clock_line(clock: dict) -> str:
    wall, speed = clock.get("wall"), clock.get("speed")
    when = "unknown" if wall is None else datetime.fromtimestamp(wall, UTC).isoformat()[:19] + "Z"
    pace = "paused" if not speed else f"{speed:g} s per second"
    return f"sim clock: {when} UTC, {pace}"


def register(group: click.Group) -> None:
    """Add the subcommands to `pillctl sim`."""

    @group.command("press")
    @click.option("--long", "long_press", is_flag=True, help=f"Hold {LONG_PRESS_MS} ms.")
    @click.option("--ms", type=click.IntRange(1, 60_000), help="Hold this many milliseconds.")
    @fs_option
    @control_option
    def press(long_press: bool, ms: int | None, fs: Path | None, control: Path | None) -> None:
        """Press the simulated board's button (150 ms, or --long / --ms)."""
        held = ms or (LONG_PRESS_MS if long_press else SHORT_PRESS_MS)
        with _open(fs, control) as sim:
            sim.press(held)
        click.echo(f"pressed the button for {held} ms")

    @group.command("time")
    @click.argument("when", required=False)
    @click.option(
        "--step",
        is_flag=True,
        help="Fast-forward to WHEN (every reminder and cut-off on the way happens), then pause.",
    )
    @click.option("--speed", type=click.FloatRange(0), help="Simulated seconds per second.")
    @fs_option
    @control_option
    def time_command(
        when: str | None, step: bool, speed: float | None, fs: Path | None,
        control: Path | None,
    ) -> None:  # fmt: skip
        """Show or move the simulated clock: WHEN is an ISO time or +90s, +10m, +2h, +1d.
        Without --step the clock jumps there and runs on."""
        if step and when is None:
            raise PillctlError("sim time --step needs WHEN")
        with _open(fs, control) as sim:
            if when is not None:
                target = _when(when, sim.state()["clock"]["wall"])
                if step:
                    sim.step_to(target, timeout=STEP_TIMEOUT_S)
                else:
                    sim.set_clock(target)
            if speed is not None:
                sim.set_speed(speed)
            clock = sim.state()["clock"]
        click.echo(_clock_line(clock))

    @group.command("power")
    @click.argument("action", type=click.Choice(["off", "on", "cycle"]))
    @fs_option
    @control_option
    def power(action: str, fs: Path | None, control: Path | None) -> None:
        """Cut the simulated board's power (off), restore it (on), or both (cycle)."""
        with _open(fs, control) as sim:
            if action in ("off", "cycle"):
                sim.power(False)
            if action in ("on", "cycle"):
                sim.power(True)
            state = sim.state()
        click.echo(f"power {'on' if state['powered'] else 'off'} (boots: {state['boots']})")

    @group.command("wifi")
    @click.argument("link", type=click.Choice(["up", "down", "fail"]))
    @fs_option
    @control_option
    def wifi(link: str, fs: Path | None, control: Path | None) -> None:
        """A simulated Pico W's Wi-Fi: in reach (up), out of reach (down), or its chip not
        answering (fail: joining raises OSError)."""
        with _open(fs, control) as sim:
            sim.wifi(link == "up", fail=link == "fail")
        click.echo(f"sim Wi-Fi: {link}")

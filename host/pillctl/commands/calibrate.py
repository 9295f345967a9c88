"""`pillctl calibrate HOPPER`: find a servo's rest and drop pulse widths with the keyboard
and keep them on the device (docs/hardware.md); `--rest US --drop US` sets them directly."""

from __future__ import annotations

from typing import TextIO

import click

from dispenser.setupfiles import MAX_US, MIN_US
from pillctl.calibration import ENTER, LARGE_US, QUIT, SMALL_US, key_stream, keys, nudged
from pillctl.commands.common import connect, port_option
from pillctl.device import Device
from pillctl.errors import PillctlError

START_WAIT_S = 30
MOVE_TIMEOUT_S = 10.0
pulse = click.IntRange(MIN_US, MAX_US)


def _request(device: Device, hopper: int, op: str, **args) -> dict:
    return device.request("calibrate", {"op": op, "hopper": hopper, **args}, timeout=MOVE_TIMEOUT_S)


def adjust(device: Device, hopper: int, what: str, width: int, pressed) -> int:
    """Move the servo to `width`, then by each key until Enter; the width kept."""
    _request(device, hopper, "move", us=width)
    click.echo(f"{what}: {width} us")
    for key in pressed:
        if key == ENTER:
            return width
        if key == QUIT:
            break
        moved = nudged(width, key)
        if moved != width:
            width = moved
            _request(device, hopper, "move", us=width)
            click.echo(f"{what}: {width} us")
    raise PillctlError(f"calibrate: stopped before the {what} position was kept: nothing saved")


def interactive(device: Device, hopper: int, stream: TextIO) -> tuple[int, int, bool | None]:
    click.echo(
        f"Press the button on the dispenser within {START_WAIT_S} s to start: the servo of "
        f"hopper {hopper} will move."
    )

    def on_event(event: dict) -> None:
        if event.get("kind") == "waiting":
            click.echo("waiting for the button")

    begun = device.request(
        "calibrate",
        {"op": "begin", "hopper": hopper, "wait_ms": START_WAIT_S * 1000},
        timeout=START_WAIT_S + MOVE_TIMEOUT_S,
        on_event=on_event,
    )
    if not begun["ok"]:
        raise PillctlError(f"calibrate: the button was not pressed within {START_WAIT_S} s")
    click.echo(
        f"up/+ and down/- move {SMALL_US} us, right and left {LARGE_US} us; Enter keeps, "
        "q stops without saving"
    )
    pressed = keys(stream)
    try:
        rest = adjust(device, hopper, "rest", begun["rest"], pressed)
        drop = adjust(device, hopper, "drop", begun["drop"], pressed)
        if rest == drop:
            raise PillctlError("calibrate: rest and drop are the same width: nothing saved")
        _request(device, hopper, "save", rest=rest, drop=drop)
        click.echo("saved; a full sweep with them:")
        pill = _request(device, hopper, "sweep")["pill"]
    finally:
        _request(device, hopper, "end")
    return rest, drop, pill


@click.command()
@click.argument("hopper", type=click.IntRange(0, 2))
@click.option("--rest", type=pulse, help="Rest pulse width in us (500-2500), with --drop.")
@click.option("--drop", type=pulse, help="Drop pulse width in us (500-2500), with --rest.")
@port_option
def calibrate(hopper: int, rest: int | None, drop: int | None, port: str) -> None:
    """Calibrate HOPPER's servo (0-2) from the keyboard and keep it on the device.

    After a press of the dispenser's button the servo moves to its rest position: nudge
    it with the arrow keys or +/- until it sits right, Enter; then the same for the drop
    position; then a full sweep tests them. The widths are saved on the device and used
    from the next movement on; `pillctl flash` keeps them."""
    if (rest is None) != (drop is None):
        raise PillctlError("calibrate: give both --rest and --drop, or neither")
    with connect(port) as device:
        if rest is not None and drop is not None:
            saved = _request(device, hopper, "save", rest=rest, drop=drop)
            click.echo(f"hopper {hopper}: rest {saved['rest']} us, drop {saved['drop']} us, saved")
            return
        with key_stream() as stream:
            rest, drop, pill = interactive(device, hopper, stream)
    seen = {None: "no drop sensor", True: "the drop sensor saw a pill", False: "no pill seen"}
    click.echo(f"hopper {hopper}: rest {rest} us, drop {drop} us, saved ({seen[pill]})")

"""A board found in its maintenance REPL (opened by `pillctl maintenance` and a hold at
the device, or safe mode): say so in one line and bring the dispenser app back at once,
instead of failing until its window ends by itself.

The firmware leaves the app for the REPL only after that hold (pillctl/unlock.py) and stays
there up to `maintenance_s` (5 minutes on a Pico) so a deploy can finish;
`dispenser.app.restart()` ends that early with the board's own hard reset (machine.reset()
on a Pico; the sim's runner reboots it).
"""

from __future__ import annotations

import time

import click
import serial

from pillctl.device import open_failure
from pillctl.errors import PillctlError
from pillctl.flashing import wait_for_hello

PROBE_S = 1.5
RAW_REPL_S = 3.0
RESTART_CODE = b"from dispenser.app import restart\r\nrestart()\r\n"


def _read_until(line: serial.Serial, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and marker not in seen:
        try:
            seen += line.read(line.in_waiting or 1)
        except (serial.SerialException, OSError):
            break  # a resetting board drops off the line
    return seen


def repl_waiting(line: serial.Serial) -> bool:
    """True when a MicroPython REPL answers: Ctrl-C for a fresh prompt, Ctrl-B to leave a
    raw REPL mpremote may have left behind; the friendly REPL then shows `>>> `."""
    line.reset_input_buffer()
    line.write(b"\r\x03\x02")
    return b">>> " in _read_until(line, b">>> ", PROBE_S)


def run_restart(line: serial.Serial, port: str) -> None:
    """Run dispenser.app.restart() through the raw REPL (Ctrl-A ... Ctrl-D)."""
    line.write(b"\r\x03\x03\x01")
    if b"raw REPL" not in _read_until(line, b"raw REPL; CTRL-B to exit\r\n>", RAW_REPL_S):
        raise PillctlError(f"{port} shows a REPL but does not enter the raw REPL: reset it")
    line.write(RESTART_CODE + b"\x04")
    answer = _read_until(line, b"\x04>", RAW_REPL_S)
    # A failure prints its traceback between the two Ctrl-D markers; a reset prints nothing.
    _, _, after_ok = answer.partition(b"OK")
    error = after_ok.split(b"\x04")[1] if after_ok.count(b"\x04") >= 2 else b""
    if b"ImportError" in error:
        raise PillctlError(
            f"{port} runs MicroPython without the dispenser firmware: "
            "run `pillctl flash --board BOARD`"
        )
    if error.strip():
        last = error.decode(errors="replace").strip().splitlines()[-1]
        raise PillctlError(f"{port} is in its REPL and could not restart the app: {last}")


def recover(port: str, restart: bool) -> bool:
    """After a request went unanswered: False when no REPL is there either. Otherwise say
    that the board is in its maintenance REPL and restart the app (unless `restart` is
    False: then fail in one line saying how to get it back)."""
    try:
        line = serial.Serial(port, 115200, timeout=0.1, exclusive=True)
    except serial.SerialException as exc:
        raise PillctlError(open_failure(port, exc)) from exc
    with line:
        if not repl_waiting(line):
            return False
        if not restart:
            raise PillctlError(
                f"{port} is in its maintenance REPL: it goes back to "
                "dispensing by itself within 5 minutes, or run this again without --no-restart"
            )
        run_restart(line, port)  # a blank board fails here, with its own line
        click.echo(
            f"pillctl: {port} was in its maintenance REPL; restarting the app",
            err=True,
        )
    wait_for_hello(port)
    return True

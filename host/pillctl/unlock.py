"""Opening the maintenance REPL of a running dispenser: USB alone cannot (the app turned
the keyboard interrupt off), so `pillctl maintenance`, and `pillctl flash` over a running
app, ask the app for it and a person confirms with a 2 s hold of the device's button
within 60 s (docs/safety-rules.md, "USB access"). The device logs who asked and when.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable

from dispenser.core import protocol
from dispenser.core.protocol import MAINTENANCE_HOLD_MS, MAINTENANCE_WINDOW_MS
from pillctl.device import Device, DeviceError, open_device
from pillctl.errors import PillctlError

# The device's own numbers, not copies of them.
HOLD_WINDOW_S = MAINTENANCE_WINDOW_MS // 1000
HOLD_S = -(-MAINTENANCE_HOLD_MS // 1000)  # rounded up: never ask for less than it wants
ANSWER_S = HOLD_WINDOW_S + 10  # a hold begun in time may end a little after the window
HOLD_PROMPT = (
    f"hold the dispenser's button for {HOLD_S} s now (within {HOLD_WINDOW_S} s) "
    "to open its maintenance REPL"
)


def who_asks() -> str:
    """user@host, as the device logs it (at most 32 bytes)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"{user}@{socket.gethostname()}".encode()[:32].decode(errors="ignore")


def open_maintenance(port: str, say: Callable[[str], None]) -> int:
    """Ask the app on `port` for its maintenance REPL, telling the person (`say`) to hold
    the button; returns the window in seconds once the REPL is open."""
    with open_device(port) as device:
        return request_maintenance(device, say)


def request_maintenance(device: Device, say: Callable[[str], None]) -> int:
    """open_maintenance over a connection already open to the app."""
    port = device.port
    say(HOLD_PROMPT)
    try:
        reply = device.request("maintenance", {"by": who_asks()}, timeout=ANSWER_S)
    except DeviceError as exc:
        if exc.code == protocol.E_REFUSED and "halted" in str(exc):
            raise PillctlError(
                f"{port} is halted after repeated crashes and opens no maintenance REPL: "
                "unplug it, or plug it in with its button held (safe mode)"
            ) from exc
        if exc.code == protocol.E_REFUSED:
            raise PillctlError(
                f"{port}: nobody held the dispenser's button for {HOLD_S} s within "
                f"{HOLD_WINDOW_S} s, so it "
                "stays locked and keeps dispensing; run this again and hold the button"
            ) from exc
        if exc.code == protocol.E_UNKNOWN:  # firmware from before the lock
            raise PillctlError(
                f"{port} runs firmware without a maintenance command: "
                "stop it with Ctrl-C in `mpremote` instead"
            ) from exc
        raise
    return int(reply.get("seconds", 0))


def locked_hint(port: str) -> str:
    """One line for a command that met the locked app where it needed the REPL."""
    return (
        f"{port} runs the dispenser app, which ignores Ctrl-C and the raw REPL: "
        f"run `pillctl maintenance --port {port}` and hold its button for {HOLD_S} s"
    )

"""Client side of the serial protocol (docs/protocol.md) over pyserial."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from typing import Any

import serial

from dispenser.core import protocol
from pillctl.errors import PillctlError
from pillctl.logfields import named_event

DEFAULT_TIMEOUT_S = 3.0


class DeviceError(PillctlError):
    """The device answered with an error frame. ``refusal``: a refused schedule's code, path
    and values (its ``refusal`` member), which ``pillctl.schedule.refusal`` words."""

    def __init__(self, verb: str, code: str, message: str, refusal: dict | None = None) -> None:
        super().__init__(f"device refused {verb}: {message} ({code})")
        self.verb = verb
        self.code = code
        self.refusal = refusal


class NoAnswerError(PillctlError):
    """Nothing answered a request: no firmware of ours runs there (or it is in the REPL)."""


def open_failure(port: str, exc: serial.SerialException) -> str:
    """Why `port` did not open, said once, with what to do."""
    reason = str(exc)
    if "busy" in reason.lower() or "lock" in reason.lower():
        return f"{port} is busy: another program has it open"
    if exc.errno == errno.ENOENT:
        return (
            f"no port {port}: plug in the Pico (then `pillctl ports`), or start a simulated "
            f"board with `pillctl sim --headless --link {port}`"
        )
    # pyserial repeats the port and wraps the OS error: keep only the OS's own words.
    return f"cannot open {port}: {os.strerror(exc.errno) if exc.errno else reason}"


class Device:
    """One open connection to a dispenser (a Pico on USB or a simulated board)."""

    def __init__(self, port: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.port = port
        self.timeout = timeout
        try:
            self._serial = serial.Serial(port, 115200, timeout=0.1, exclusive=True)
        except serial.SerialException as exc:
            raise PillctlError(open_failure(port, exc)) from exc
        self._serial.reset_input_buffer()
        self._next_id = 1
        self._pending = b""
        self.events: list[dict[str, Any]] = []
        self.hello: dict[str, Any] = {}

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._serial.close()

    def request(
        self,
        verb: str,
        args: dict[str, Any] | None = None,
        timeout: float | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ):
        """Send one request and return the reply payload; raises on error or silence.
        `on_event` takes the events that arrive while it waits (a step waiting for a
        person says so), instead of queueing them."""
        frame_id = self._next_id
        self._next_id = self._next_id % 999_999 + 1
        # The leading newline ends whatever half line an interrupted client (a pulled
        # cable, a killed pillctl) left on the device, so it cannot poison this request.
        line = "\n" + protocol.encode(frame_id, verb, args or {}) + "\n"
        try:
            self._serial.write(line.encode())
        except serial.SerialException as exc:
            raise PillctlError(f"lost the connection to {self.port}: {exc}") from exc
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            frame = self._read_frame(deadline)
            while on_event is not None and self.events:
                on_event(self.events.pop(0))
            if frame is None:
                continue
            reply_id, reply_verb, payload = frame
            # Only replies count: a REPL echoes our own request line back, same id and all.
            if reply_id != frame_id or reply_verb not in ("ok", "err"):
                continue
            if reply_verb == "err":
                raise DeviceError(
                    verb, payload.get("code", "?"), payload.get("msg", ""), payload.get("refusal")
                )
            return payload
        raise NoAnswerError(
            f"no answer from {self.port} to {verb} within {timeout or self.timeout:g} s; "
            "is it a dispenser running our firmware?"
        )

    def read_event(self, timeout: float) -> dict[str, Any] | None:
        """The next unsolicited event, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.events:
                return self.events.pop(0)
            self._read_frame(deadline)
        return self.events.pop(0) if self.events else None

    def _read_frame(self, deadline: float):
        """One frame from the line, or None; events are queued, junk lines skipped."""
        while b"\n" not in self._pending:
            if time.monotonic() >= deadline:
                return None
            try:
                chunk = self._serial.read(self._serial.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                raise PillctlError(f"lost the connection to {self.port}: {exc}") from exc
            self._pending += chunk
            if len(self._pending) > 1 << 20:
                raise PillctlError(f"{self.port} sends endless data without frames")
        raw, self._pending = self._pending.split(b"\n", 1)
        try:
            frame = protocol.decode(raw.decode("utf-8", "replace").rstrip("\r"))
        except protocol.FrameError:
            return None
        if frame is not None and frame[1] == "evt":
            self.events.append(named_event(frame[2]))
            return None
        return frame


def open_device(port: str, timeout: float = DEFAULT_TIMEOUT_S) -> Device:
    """Open the port and check that a dispenser answers hello."""
    device = Device(port, timeout)
    try:
        device.hello = device.request("hello")
    except PillctlError:
        device.close()
        raise
    return device


def probe_hello(port: str, timeout: float) -> dict[str, Any] | None:
    """What the dispenser on `port` says to hello, or None when nothing of ours answers."""
    try:
        with open_device(port, timeout) as device:
            return device.hello
    except PillctlError:
        return None

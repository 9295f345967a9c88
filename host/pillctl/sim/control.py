"""The sim's control channel: JSON lines over a Unix socket, beside the serial port.

Tests and people use it to press the button, drive the simulated clock, cut and restore
power (also in the middle of a write), jam a hopper, inject faults and read the trace. The
requests are listed in docs/sim.md.
"""

from __future__ import annotations

import contextlib
import errno
import json
import random
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

from pillctl.errors import PillctlError
from pillctl.sim.runner import SimRunner

LONG_PRESS_MS = 2000
SHORT_PRESS_MS = 150
FLASH_ERRORS = {"EIO": errno.EIO, "ENOSPC": errno.ENOSPC}  # the board's errno values match
CUT_STEPS = ("write", "rename")


class ControlError(Exception):
    pass


def handle_request(runner: SimRunner, request: dict[str, Any]) -> dict[str, Any]:
    """Carry out one control request; returns the reply object."""
    cmd = request.get("cmd")
    if cmd == "press":
        ms = int(request.get("ms", LONG_PRESS_MS if request.get("long") else SHORT_PRESS_MS))
        since = runner.trace.next_seq
        runner.press(ms)
        return {"since": since}
    if cmd == "clock":
        if "set" in request:
            runner.set_clock(float(request["set"]))
        if "speed" in request:
            runner.set_speed(float(request["speed"]))
        if "step" in request:
            timeout = float(request.get("timeout", 60))
            if not runner.step_to(float(request["step"]), timeout):
                raise ControlError(f"board did not reach {request['step']} within {timeout} s")
        return {"wall": runner.clock.estimate(), "speed": runner.clock.speed}
    if cmd == "button":
        return {"since": _button_edges(runner, request)}
    if cmd == "power":
        if request.get("on"):
            runner.power_on(bool(request.get("held")))
        elif "at" in request:
            return _armed_cut(runner, request)
        else:
            runner.power_off()
        return {"powered": runner.powered, "boots": runner.boots, "torn": None}
    if cmd == "fault":
        _fault(runner, request)
        return {}
    if cmd == "jam":
        runner.jam(int(request["hopper"]), bool(request.get("on", True)))
        return {}
    if cmd == "ds3231":
        options = runner.options
        since = runner.trace.next_seq
        runner.ds3231(
            bool(request.get("present", options.rtc)),
            int(request.get("offset", options.ds3231_offset)),
            bool(request.get("lost", options.ds3231_lost)),
        )
        # Answered once a running board took it, so a request sent next over the serial
        # line (another channel) already reads the new DS3231.
        if runner.powered and runner.trace.wait_for(_ds3231_taken, since, 10) is None:
            raise ControlError("the board did not take the DS3231 change within 10 s")
        return {
            "present": options.rtc,
            "offset": options.ds3231_offset,
            "lost": options.ds3231_lost,
        }
    if cmd == "wifi":
        runner.wifi(bool(request.get("up", True)), bool(request.get("fail", False)))
        return {"up": runner.options.wifi, "fail": runner.options.wifi_fails}
    if cmd == "trace":
        since = int(request.get("since", 0))
        events = runner.trace.since(since, int(request.get("limit", 10_000)))
        return {"events": [e.as_dict() for e in events], "next": runner.trace.next_seq}
    if cmd == "wait":
        name, since = request.get("name"), int(request.get("since", 0))
        value = request.get("value")
        event = runner.trace.wait_for(
            lambda e: e.name == name and (value is None or e.value == str(value)),
            since,
            float(request.get("timeout", 10)),
        )
        return {"event": event.as_dict() if event else None}
    if cmd == "state":
        return {
            "port": runner.port,
            "powered": runner.powered,
            "boots": runner.boots,
            "device_id": runner.device_id,
            "clock": {"wall": runner.clock.estimate(), "speed": runner.clock.speed},
            "outputs": dict(runner.trace.outputs),
            "trace_next": runner.trace.next_seq,
            "torn": runner.last_cut,
            "scratch": runner.scratch_words(),
        }
    raise ControlError(f"unknown control request {cmd!r}")


def _ds3231_taken(event) -> bool:
    return event.name == "ds3231"


def _button_edges(runner: SimRunner, request: dict[str, Any]) -> int:
    edges = request.get("edges")
    if not isinstance(edges, list) or not edges:
        raise ControlError("button: edges is a list of [level, ms] pairs")
    steps = []
    for edge in edges:
        if not (isinstance(edge, list) and len(edge) == 2 and edge[0] in (0, 1)):
            raise ControlError(f"button: edge {edge!r} is not [0|1, ms]")
        ms = int(edge[1])
        if not 0 <= ms <= 60_000:
            raise ControlError(f"button: edge {edge!r} lasts 0 to 60000 ms")
        steps.append((edge[0], ms))
    since = runner.trace.next_seq
    timeout = float(request.get("timeout", 30)) + sum(ms for _, ms in steps) / 1000
    if not runner.button_edges(steps, timeout):
        raise ControlError(
            f"button: the board did not play the edges (it reset, or not within {timeout:.0f} s)"
        )
    return since


def _fault(runner: SimRunner, request: dict[str, Any]) -> None:
    if "task" in request:
        name = str(request["task"])
        if not name or not name.isidentifier():
            raise ControlError(f"fault: task {name!r} is not a name")
        runner.fault_task(name)
    elif "flash" in request:
        code = FLASH_ERRORS.get(request["flash"])
        if code is None:
            raise ControlError(f"fault: flash {request['flash']!r} is not EIO or ENOSPC")
        runner.fault_flash(code, int(request.get("count", 1)))
    else:
        raise ControlError("fault: give task or flash")


def _armed_cut(runner: SimRunner, request: dict[str, Any]) -> dict[str, Any]:
    """Cut the power in the middle of the board's next matching write or rename; waits for
    it (unless timeout is 0) and replies with what was torn."""
    step, path = request["at"], str(request.get("path", ""))
    if step not in CUT_STEPS:
        raise ControlError(f"power: at {step!r} is not write or rename")
    if not path or any(c.isspace() for c in path):
        raise ControlError("power: path is the part of a file path to cut at, without spaces")
    seed = int(request["seed"]) if "seed" in request else random.randrange(2**32)
    since = runner.trace.next_seq
    runner.arm_cut(step, path, seed)
    timeout = float(request.get("timeout", 30))
    reply: dict[str, Any] = {"seed": seed, "since": since}
    if timeout > 0:
        cut = runner.trace.wait_for(
            lambda e: e.kind == "sim" and e.name == "power" and e.value == "off", since, timeout
        )
        if cut is None:
            raise ControlError(f"power: the board made no matching {step} within {timeout} s")
    return {**reply, "powered": runner.powered, "boots": runner.boots, "torn": runner.last_cut}


class ControlServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, runner: SimRunner) -> None:
        self.runner = runner
        self.path = path
        if path.exists() or path.is_symlink():
            path.unlink()
        super().__init__(str(path), _ControlHandler)

    def start(self) -> None:
        # close() waits until serve_forever notices the shutdown, which it checks once per
        # poll interval (0.5 s by default): at every stop of every sim board.
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-control",
            daemon=True,
        ).start()  # fmt: skip

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        with contextlib.suppress(OSError):
            self.path.unlink()


class _ControlHandler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        for raw in self.rfile:
            try:
                request = json.loads(raw)
                if not isinstance(request, dict):
                    raise ControlError("a request is a JSON object")
                reply = {"ok": True, **handle_request(self.server.runner, request)}
            except (ControlError, ValueError, KeyError, TypeError) as exc:
                reply = {"ok": False, "error": str(exc)}
            self.wfile.write((json.dumps(reply) + "\n").encode())


class SimControl:
    """Client of the control channel, for tests, the demo and the bench."""

    def __init__(self, path: str | Path, timeout: float = 120) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(str(path))
        except OSError as exc:
            raise PillctlError(f"cannot reach the sim's control channel at {path}: {exc}") from exc
        self._file = self._sock.makefile("rwb")

    def request(self, **request: Any) -> dict[str, Any]:
        self._file.write((json.dumps(request) + "\n").encode())
        self._file.flush()
        reply = json.loads(self._file.readline())
        if not reply.pop("ok"):
            raise PillctlError(f"sim control: {reply['error']}")
        return reply

    def press(self, ms: int = SHORT_PRESS_MS) -> int:
        return self.request(cmd="press", ms=ms)["since"]

    def long_press(self) -> int:
        return self.request(cmd="press", ms=LONG_PRESS_MS)["since"]

    def set_clock(self, wall: float) -> None:
        self.request(cmd="clock", set=wall)

    def set_speed(self, speed: float) -> None:
        self.request(cmd="clock", speed=speed)

    def step_to(self, wall: float, timeout: float = 60) -> None:
        self.request(cmd="clock", step=wall, timeout=timeout)

    def power(self, on: bool, held: bool = False) -> dict[str, Any]:
        """Power off or on; `held`: the button is held while it powers on (safe mode)."""
        return self.request(cmd="power", on=on, held=held)

    def cut_at(self, step: str, path: str, seed: int, timeout: float = 30) -> dict[str, Any]:
        """Cut the power in the middle of the next write/rename whose path holds `path`."""
        return self.request(cmd="power", on=False, at=step, path=path, seed=seed, timeout=timeout)

    def button(self, edges: list[tuple[int, int]], timeout: float = 30) -> int:
        return self.request(cmd="button", edges=[list(e) for e in edges], timeout=timeout)["since"]

    def fault_task(self, name: str) -> None:
        self.request(cmd="fault", task=name)

    def fault_flash(self, kind: str, count: int = 1) -> None:
        self.request(cmd="fault", flash=kind, count=count)

    def jam(self, hopper: int, on: bool = True) -> None:
        self.request(cmd="jam", hopper=hopper, on=on)

    def wifi(self, up: bool, fail: bool = False) -> None:
        self.request(cmd="wifi", up=up, fail=fail)

    def ds3231(self, **state: Any) -> dict[str, Any]:
        """present, offset (s) and lost: what the simulated DS3231 tells the self-test."""
        return self.request(cmd="ds3231", **state)

    def trace(self, since: int = 0) -> list[dict[str, Any]]:
        return self.request(cmd="trace", since=since)["events"]

    def wait_for(self, name: str, since: int, value=None, timeout: float = 10) -> dict | None:
        return self.request(cmd="wait", name=name, since=since, value=value, timeout=timeout)[
            "event"
        ]

    def state(self) -> dict[str, Any]:
        return self.request(cmd="state")

    def servo_moves(self, since: int) -> list[str]:
        """The servos that left the released state (one entry per actuation) since `since`."""
        moves, pulse = [], {}
        for event in self.trace(since):
            name = event["name"]
            if name.startswith("servo."):
                if pulse.get(name, "0") == "0" and event["value"] != "0":
                    moves.append(name)
                pulse[name] = event["value"]
        return moves

    def servos_released(self) -> bool:
        outputs = self.state()["outputs"]
        return all(outputs.get(f"servo.{hopper}", "0") == "0" for hopper in range(3))

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def __enter__(self) -> SimControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

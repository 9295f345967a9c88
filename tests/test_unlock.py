"""pillctl's side of the maintenance REPL (pillctl/unlock.py): it tells the person to hold
the button before it asks, and a refusal becomes one line saying what to do."""

from __future__ import annotations

import pytest

from dispenser.core import protocol
from pillctl import unlock
from pillctl.device import DeviceError
from pillctl.errors import PillctlError


class _Device:
    port = "/dev/ttyACM0"

    def __init__(self, said: list[str], answer) -> None:
        self.said = said
        self.answer = answer
        self.asked: list[tuple[str, dict]] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def request(self, verb, args=None, timeout=None):
        assert self.said == [unlock.HOLD_PROMPT]  # the person was told first
        assert timeout is not None and timeout > unlock.HOLD_WINDOW_S
        self.asked.append((verb, args))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _open(monkeypatch, answer):
    said: list[str] = []
    device = _Device(said, answer)
    monkeypatch.setattr(unlock, "open_device", lambda port: device)
    return said, device


def test_a_hold_opens_it_and_the_device_hears_who_asked(monkeypatch):
    said, device = _open(monkeypatch, {"seconds": 300})
    assert unlock.open_maintenance("/dev/ttyACM0", said.append) == 300
    ((verb, args),) = device.asked
    assert verb == "maintenance" and "@" in args["by"] and len(args["by"].encode()) <= 32


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("no 2 s hold of the device's button within 60 s", "run this again and hold the button"),
        ("halted after 3 crashes in a row: unplug", "plug it in with its button held"),
    ],
)
def test_a_refusal_is_one_line_saying_what_to_do(monkeypatch, message, expected):
    said, _ = _open(monkeypatch, DeviceError("maintenance", protocol.E_REFUSED, message))
    with pytest.raises(PillctlError) as error:
        unlock.open_maintenance("/dev/ttyACM0", said.append)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_firmware_without_the_command_is_named(monkeypatch):
    said, _ = _open(monkeypatch, DeviceError("maintenance", protocol.E_UNKNOWN, "no command"))
    with pytest.raises(PillctlError, match="without a maintenance command"):
        unlock.open_maintenance("/dev/ttyACM0", said.append)

"""A person's name for a dispenser ("Mum's kitchen"), kept in the local store beside its log,
so reports say whose dispenser it is rather than only its hex id."""

from __future__ import annotations

from pillctl.errors import PillctlError
from pillctl.history import DeviceHistory
from pillctl.outputs import write_output
from pillctl.schedule.schema import unprintable

NAME_FILE = "name.txt"
MAX_NAME = 60


def device_name(history: DeviceHistory) -> str | None:
    try:
        return (history.path / NAME_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def set_device_name(history: DeviceHistory, name: str) -> None:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise PillctlError(f"name: give 1 to {MAX_NAME} characters, not {len(name)}")
    bad = unprintable(name)
    if bad is not None:  # any script and emoji are fine; controls would garble every report
        raise PillctlError(f"name: U+{ord(bad):04X} is not a printable character; remove it")
    history.path.mkdir(parents=True, exist_ok=True)
    write_output(history.path / NAME_FILE, (name + "\n").encode())

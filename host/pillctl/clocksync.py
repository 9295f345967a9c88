"""Setting the device clock from the host: shared by `pillctl time sync` and `pillctl flash`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pillctl.device import Device


@dataclass(frozen=True)
class ClockSync:
    before: int | None  # the device's clock before the sync; None while it was unknown
    host: int  # the UTC epoch seconds sent
    after: int  # what the device reported once set

    @property
    def offset(self) -> int | None:
        """Seconds the device was ahead (+) or behind (-) the host; None if it was unknown."""
        return None if self.before is None else self.before - self.host

    def as_dict(self) -> dict:
        return {
            "before": self.before,
            "host": self.host,
            "after": self.after,
            "offset": self.offset,
        }


def device_time(hello: dict) -> int | None:
    return hello.get("t") if hello.get("clock") == "set" else None


def format_epoch(t: int | None) -> str:
    if t is None:
        return "unknown"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def sync_clock(device: Device) -> ClockSync:
    before = device_time(device.request("hello"))
    # Whole seconds, rounded: the protocol's time.set takes an int.
    host = round(time.time())
    reply = device.request("time.set", {"t": host})
    return ClockSync(before=before, host=host, after=reply["t"])

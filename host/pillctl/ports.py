"""Which serial port to talk to: --port PATH, $PILLCTL_PORT, or the one USB dispenser found."""

from __future__ import annotations

import os

from serial.tools import list_ports

from pillctl.errors import PillctlError

RASPBERRY_PI_VID = 0x2E8A
ENV_VAR = "PILLCTL_PORT"


def usb_candidates() -> list[str]:
    return sorted(p.device for p in list_ports.comports() if p.vid == RASPBERRY_PI_VID)


def resolve_port(port: str) -> str:
    if port != "auto":
        return port
    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    found = usb_candidates()
    if len(found) == 1:
        return found[0]
    if not found:
        raise PillctlError(
            "no dispenser found on USB; plug it in, or pass --port PATH "
            "(for a simulated board, the port `pillctl sim` printed)"
        )
    raise PillctlError(f"several boards found ({', '.join(found)}); choose one with --port")

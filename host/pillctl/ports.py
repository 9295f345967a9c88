"""Which serial port to talk to: --port PATH, $PILLCTL_PORT, or the one USB dispenser found."""

from __future__ import annotations

import os

from serial.tools import list_ports

from pillctl.errors import PillctlError

RASPBERRY_PI_VID = 0x2E8A
ENV_VAR = "PILLCTL_PORT"


def usb_candidates() -> list[str]:
    return sorted(p.device for p in list_ports.comports() if p.vid == RASPBERRY_PI_VID)


def all_candidates() -> list[tuple[str, str]]:
    """(port, where it came from) for every port a dispenser might be on."""
    found = [(port, "usb") for port in usb_candidates()]
    env_port = os.environ.get(ENV_VAR)
    if env_port and env_port not in {port for port, _ in found}:
        found.insert(0, (env_port, f"${ENV_VAR}"))
    return found


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

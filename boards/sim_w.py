"""Simulated Pico W: the sim board plus a `network.WLAN` stand-in, deployed as board.py
(with boards/sim.py beside it as sim.py) by `pillctl sim --board pico_w`.

The Wi-Fi link is up, down or failing as the runner says (`wifi 1|0|fail` on the control
FIFO; the control channel's `{"cmd": "wifi", "up": ..., "fail": ...}`), and the runner hands
its state over across reboots in PILLCTL_SIM_WIFI. While it is up, the unix port's real
sockets reach a real broker on 127.0.0.1; while it is down, the firmware sees what a Pico W
sees: not connected. While it fails, `connect()` raises OSError, as a Pico W's does when its
Wi-Fi chip does not answer. The password is never written to the trace.
"""

import os

from sim import SimBoard

NAME = "sim_w"

STAT_IDLE = 0
STAT_NO_AP_FOUND = -2
STAT_GOT_IP = 3
ETIMEDOUT = 110  # what a Wi-Fi chip that does not answer costs connect()


class SimWLAN:
    """network.WLAN(STA_IF)'s contract as the firmware uses it: active([on]),
    connect(ssid, key), disconnect(), isconnected(), status()."""

    def __init__(self, trace, link):
        self._trace = trace
        self.up = link == "1"  # the access point is in reach
        self.chip_fails = link == "fail"  # the Wi-Fi chip does not answer
        self._active = False
        self._joined = False

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = bool(on)
        return None

    def connect(self, ssid, key=None):
        self._trace.emit("net", "wifi.connect", ssid)  # the SSID only, never the key
        if self.chip_fails:
            raise OSError(ETIMEDOUT)
        self._joined = self._active and self.up

    def disconnect(self):
        self._joined = False

    def isconnected(self):
        return self._joined and self.up

    def status(self):
        if self.isconnected():
            return STAT_GOT_IP
        return STAT_NO_AP_FOUND if self._active else STAT_IDLE

    def drive(self, link):
        self.up = link == "1"
        self.chip_fails = link == "fail"
        if not self.up:
            self._joined = False  # a Pico W drops its association with the access point
        self._trace.emit("net", "wifi", link)


class SimWBoard(SimBoard):
    name = NAME

    def __init__(self):
        super().__init__()
        self.wlan = SimWLAN(self.trace, os.getenv("PILLCTL_SIM_WIFI") or "1")

    def runner_event(self, words):
        if words[0] == "wifi":
            self.wlan.drive(words[1])


def build():
    return SimWBoard()

"""Simulated Pico W: the sim board plus a `network.WLAN` stand-in, deployed as board.py
(with boards/sim.py beside it as sim.py) by `pillctl sim --board pico_w`.

The Wi-Fi link is up or down as the runner says (`wifi 1|0` on the control FIFO; the
control channel's `{"cmd": "wifi", "up": ...}`), and the runner hands its state over across
reboots in PILLCTL_SIM_WIFI. While it is up, the unix port's real sockets reach a real
broker on 127.0.0.1; while it is down, the firmware sees what a Pico W sees: not connected.
The password is never written to the trace.
"""

import os

from sim import SimBoard

NAME = "sim_w"

STAT_IDLE = 0
STAT_NO_AP_FOUND = -2
STAT_GOT_IP = 3


class SimWLAN:
    """network.WLAN(STA_IF)'s contract as the firmware uses it: active([on]),
    connect(ssid, key), disconnect(), isconnected(), status()."""

    def __init__(self, trace, up):
        self._trace = trace
        self.up = up  # the access point is in reach
        self._active = False
        self._joined = False

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = bool(on)
        return None

    def connect(self, ssid, key=None):
        self._trace.emit("net", "wifi.connect", ssid)  # the SSID only, never the key
        self._joined = self._active and self.up

    def disconnect(self):
        self._joined = False

    def isconnected(self):
        return self._joined and self.up

    def status(self):
        if self.isconnected():
            return STAT_GOT_IP
        return STAT_NO_AP_FOUND if self._active else STAT_IDLE

    def drive(self, up):
        self.up = up
        if not up:
            self._joined = False  # a Pico W drops its association with the access point
        self._trace.emit("net", "wifi", 1 if up else 0)


class SimWBoard(SimBoard):
    name = NAME

    def __init__(self):
        super().__init__()
        self.wlan = SimWLAN(self.trace, os.getenv("PILLCTL_SIM_WIFI") != "0")

    def runner_event(self, words):
        if words[0] == "wifi":
            self.wlan.drive(words[1] == "1")


def build():
    return SimWBoard()

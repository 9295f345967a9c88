"""The wall clock of a real board: the MCU's RTC, backed by an optional DS3231.

The RP2's RTC forgets the time at every power cut; a DS3231 with its coin cell does not.
At boot a valid DS3231 time is copied into the RTC, and every `set` goes to both, so the
time survives power cuts and the dispenser keeps dispensing on schedule. A DS3231 that
lost power (oscillator-stop flag) counts as unknown: nothing is dispensed on schedule
until the host sets the time (DESIGN.md invariant 4).

Contracts: `rtc.datetime((y, mo, d, wd, h, mi, s, sub))` (machine.RTC); `backup` is a
dispenser.drivers.ds3231.DS3231 or None; `now_s()` returns the RTC's seconds since 1970.
"""

import time

from dispenser.clock import Clock
from dispenser.core.localtime import DAY_S, civil_from_days, weekday


class RtcClock(Clock):
    def __init__(self, rtc, backup=None, now_s=None):
        super().__init__()
        self._rtc = rtc
        self._backup = backup
        self._now_s = now_s or time.time
        if backup is not None:
            t = _read_backup(backup)
            if t is not None:
                self._set_rtc(t)

    def _read(self):
        return int(self._now_s())  # Clock.now() treats the RTC's 2021 restart as unknown

    def _write(self, epoch_s):
        self._set_rtc(epoch_s)
        if self._backup is not None:
            try:
                self._backup.set_time(epoch_s)
            except OSError:
                pass  # a DS3231 that stopped answering: the RTC still has the time

    def _set_rtc(self, epoch_s):
        day = epoch_s // DAY_S
        secs = epoch_s % DAY_S
        year, month, mday = civil_from_days(day)
        self._rtc.datetime(
            (year, month, mday, weekday(day), secs // 3600, secs // 60 % 60, secs % 60, 0)
        )


def _read_backup(backup):
    try:
        return backup.read_time()
    except OSError:  # no module on the bus, or a bus fault: treat as absent
        return None

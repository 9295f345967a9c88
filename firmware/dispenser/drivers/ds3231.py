"""DS3231 battery-backed clock on I2C: UTC time in and out, lost-power detection.

Contract: `i2c.readfrom_mem(addr, reg, n) -> bytes`, `i2c.writeto_mem(addr, reg, buf)`
(machine.I2C). The chip holds UTC; the oscillator-stop flag (OSF, status bit 7) set means
the time was lost (battery flat or removed), and the clock counts as unknown until set.
"""

from dispenser.compat import const
from dispenser.core.localtime import DAY_S, civil_from_days, days_from_civil, weekday

ADDRESS = const(0x68)
_REG_TIME = const(0x00)
_REG_STATUS = const(0x0F)
_OSF = const(0x80)
_CENTURY = const(0x80)


def _bcd(value):
    return (value // 10) << 4 | value % 10


def _unbcd(value):
    return (value >> 4) * 10 + (value & 0x0F)


class DS3231:
    def __init__(self, i2c, address=ADDRESS):
        self.i2c = i2c
        self.address = address

    def lost_power(self):
        return bool(self.i2c.readfrom_mem(self.address, _REG_STATUS, 1)[0] & _OSF)

    def read_time(self):
        """UTC epoch seconds, or None when the chip lost its time (OSF set)."""
        if self.lost_power():
            return None
        r = self.i2c.readfrom_mem(self.address, _REG_TIME, 7)
        hour = r[2]
        if hour & 0x40:  # 12-hour mode (set by some other software): convert
            hour = _unbcd(hour & 0x1F) % 12 + (12 if hour & 0x20 else 0)
        else:
            hour = _unbcd(hour & 0x3F)
        year = 2000 + _unbcd(r[6]) + (100 if r[5] & _CENTURY else 0)
        day = days_from_civil(year, _unbcd(r[5] & 0x1F), _unbcd(r[4]))
        return day * DAY_S + hour * 3600 + _unbcd(r[1] & 0x7F) * 60 + _unbcd(r[0] & 0x7F)

    def set_time(self, t):
        """Set UTC epoch seconds `t` (2000..2199) and clear the lost-power flag."""
        day = t // DAY_S
        secs = t % DAY_S
        year, month, mday = civil_from_days(day)
        century = _CENTURY if year >= 2100 else 0
        buf = bytes(
            (
                _bcd(secs % 60),
                _bcd(secs // 60 % 60),
                _bcd(secs // 3600),
                weekday(day) + 1,
                _bcd(mday),
                _bcd(month) | century,
                _bcd(year % 100),
            )
        )
        self.i2c.writeto_mem(self.address, _REG_TIME, buf)
        status = self.i2c.readfrom_mem(self.address, _REG_STATUS, 1)[0]
        self.i2c.writeto_mem(self.address, _REG_STATUS, bytes((status & ~_OSF & 0xFF,)))

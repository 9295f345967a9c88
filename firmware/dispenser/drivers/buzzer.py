"""Piezo buzzer on a PWM pin: tones and the reminder levels' beeps.

Contract: `pwm.freq(hz)`, `pwm.duty_u16(v)` (machine.PWM). Duty sets the loudness of a
piezo; duty 0 is silence.
"""

from dispenser.compat import const
from dispenser.timing import sleep_ms

_QUIET = const(0)
# Per reminder level: (frequency Hz, duty, beep ms, gap ms, beeps). Level 1 is LEDs only.
LEVEL_BEEPS = (
    None,
    None,
    (2000, 8000, 120, 0, 1),
    (2700, 32768, 80, 80, 3),
)


class Buzzer:
    def __init__(self, pwm):
        self.pwm = pwm
        self.off()

    def tone(self, hz, duty):
        self.pwm.freq(hz)
        self.pwm.duty_u16(duty)

    def off(self):
        self.pwm.duty_u16(_QUIET)

    async def play(self, beeps):
        """Play one burst (a LEVEL_BEEPS entry or similar); None plays nothing."""
        if beeps is None:
            return
        hz, duty, on_ms, gap_ms, count = beeps
        try:
            for i in range(count):
                self.tone(hz, duty)
                await sleep_ms(on_ms)
                self.off()
                if i + 1 < count:
                    await sleep_ms(gap_ms)
        finally:
            self.off()

    async def remind(self, level):
        await self.play(LEVEL_BEEPS[level] if 0 <= level < len(LEVEL_BEEPS) else None)

"""Hardware set-up shared by the RP2040/RP2350 boards (pico, pico_w, pico2).

Each board file passes its pin map here; this is board code, so it may import `machine`.
Deployed by `pillctl flash` next to board.py.
"""

import asyncio
import sys
import time

import machine

from dispenser.core import timekeep
from dispenser.drivers.ds3231 import ADDRESS as DS3231_ADDRESS
from dispenser.drivers.ds3231 import DS3231
from dispenser.rtcclock import RtcClock

# time.time() counts from 1970 on current rp2 firmware, from 2000 on older ports.
_EPOCH_SHIFT = 946684800 if time.gmtime(0)[0] == 2000 else 0
# The pin map all three RP2 boards share: servos on PWM slices 1-3, buzzer on slice 7, and
# nothing on GP23-25/GP29, which the Pico W's wireless chip owns.
PICO_PINS = {
    "servos": (2, 4, 6),
    "compartment_leds": (10, 11, 12),
    "status_led": 13,
    "button": 14,
    "buzzer": 15,
    "drop_sensor": 16,
    "i2c": (0, 20, 21),  # bus, SDA, SCL
}
# Pulse widths (us) for each hopper's servo: (rest, drop), until `pillctl calibrate` stores
# the build's own on the device (dispenser/setupfiles.py; no reflash needed).
SERVO_CALIBRATION = ((600, 2400), (600, 2400), (600, 2400))
SERVO_HZ = 50
BUZZER_HZ = 2000

# The watchdog's SCRATCH0 register: SCRATCH0-3 are ours (the SDK uses 4-7). They survive
# every reset but a power loss.
_SCRATCH0 = 0x400D8000 + 0x0C if "RP2350" in sys.implementation._machine else 0x40058000 + 0x0C

_RESET_CAUSES = {
    machine.PWRON_RESET: "power",
    machine.WDT_RESET: "wdt",
}


def _edge_flag(pin):
    """A ThreadSafeFlag set by every edge of `pin`."""
    edge = asyncio.ThreadSafeFlag()
    # The handler only sets the flag: nothing is allocated in interrupt context.
    pin.irq(
        handler=lambda _pin: edge.set(),
        trigger=machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING,
    )
    return edge


def _find_ds3231(i2c):
    """The DS3231 if one answers on the bus; it is optional."""
    try:
        return DS3231(i2c) if DS3231_ADDRESS in i2c.scan() else None
    except OSError:  # no pull-ups, a shorted bus: run without it
        return None


class WatchdogScratch:
    """board.scratch: 32-bit words 0-3 in the watchdog's SCRATCH0-3 registers."""

    def read(self, i):
        return machine.mem32[_SCRATCH0 + 4 * i]

    def write(self, i, value):
        machine.mem32[_SCRATCH0 + 4 * i] = value


class Rp2Board:
    maintenance_s = 300  # after Ctrl-C: long enough for a deploy, short enough to come back
    log_budget = 65536  # bytes of flash for the log: a year of the default schedule fits
    wlan = None  # the Pico W's network.WLAN (boards/pico_w.py); None: no caregiver alerts

    def __init__(self, name, pins, servo_calibration):
        self.name = name
        self.device_id = "".join("%02x" % b for b in machine.unique_id())
        self.reset_cause = _RESET_CAUSES.get(machine.reset_cause(), "soft")
        self.scratch = WatchdogScratch()
        self.serial_in = sys.stdin.buffer
        self.serial_out = sys.stdout
        out = machine.Pin.OUT
        self.status_led = machine.Pin(pins["status_led"], out, value=0)
        self.compartment_leds = [machine.Pin(p, out, value=0) for p in pins["compartment_leds"]]
        self.servo_pwms = [self._pwm(p, SERVO_HZ) for p in pins["servos"]]
        self.servo_calibration = servo_calibration
        self.buzzer_pwm = self._pwm(pins["buzzer"], BUZZER_HZ)
        self.button_pin = self._input(pins["button"])
        self.button_edge = _edge_flag(self.button_pin)
        # The drop sensor is polled only while a dispense waits for a pill: no interrupt.
        drop = pins.get("drop_sensor")
        self.drop_pin = None if drop is None else self._input(drop)
        backup = None
        if pins.get("i2c") is not None:
            bus, sda, scl = pins["i2c"]
            i2c = machine.I2C(bus, sda=machine.Pin(sda), scl=machine.Pin(scl), freq=400_000)
            backup = _find_ds3231(i2c)
        self.ds3231 = backup  # the self-test reads it (dispenser.servicecmds)
        self.clock = RtcClock(machine.RTC(), backup, lambda: time.time() + _EPOCH_SHIFT)

    @staticmethod
    def _pwm(pin, hz):
        pwm = machine.PWM(machine.Pin(pin))
        pwm.freq(hz)
        pwm.duty_u16(0)
        return pwm

    @staticmethod
    def _input(pin_number):
        return machine.Pin(pin_number, machine.Pin.IN, machine.Pin.PULL_UP)

    def start_watchdog(self, timeout_ms):
        return machine.WDT(timeout=timeout_ms)

    def feed_for(self, watchdog, seconds):
        """Maintenance: a timer feeds the watchdog while the REPL runs, saving the time for
        dispenser.core.timekeep, until the deadline; then it resets the board back into the
        dispenser. (A soft reset that stops the timer leaves it to the watchdog.)"""
        deadline = time.ticks_add(time.ticks_ms(), seconds * 1000)
        timer = machine.Timer(-1)  # a virtual (software) timer: runs as a scheduled callback

        def feed(_timer):
            timekeep.save(self.scratch, self.clock.now())
            if time.ticks_diff(deadline, time.ticks_ms()) > 0:
                watchdog.feed()
            else:
                timer.deinit()
                machine.reset()

        timer.init(period=1000, mode=machine.Timer.PERIODIC, callback=feed)

    def background_tasks(self):
        return []

    def reset(self):
        machine.reset()

    def fault_point(self, name):
        """A supervised task checks in: faults are injected only on the simulated board."""

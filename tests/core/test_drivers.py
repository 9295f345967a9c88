"""Drivers against fakes that implement exactly their documented contracts."""

import asyncio

from supervisetools import FakePwm

from dispenser.core import engine, patterns
from dispenser.drivers.button import LONG, SHORT, Button
from dispenser.drivers.buzzer import Buzzer
from dispenser.drivers.delivery import DropSensor, Servo, deliver
from dispenser.drivers.ds3231 import DS3231
from dispenser.drivers.leds import Led
from dispenser.rtcclock import RtcClock


class FakePin:
    """value() / value(v); reads come from `script` (the last value repeats)."""

    def __init__(self, script=(1,)):
        self.script = list(script)
        self.written = []

    def value(self, v=None):
        if v is not None:
            self.written.append(v)
            return None
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class FakeI2C:
    """readfrom_mem / writeto_mem over a register file."""

    def __init__(self):
        self.regs = bytearray(32)

    def readfrom_mem(self, addr, reg, n):
        assert addr == 0x68
        return bytes(self.regs[reg : reg + n])

    def writeto_mem(self, addr, reg, buf):
        assert addr == 0x68
        self.regs[reg : reg + len(buf)] = buf


def _quick_servo(pwm):
    return Servo(pwm, rest_us=1000, drop_us=2000, step_us=300, step_ms=0, hold_ms=0)


def test_servo_ramps_out_and_back_then_releases():
    pwm = FakePwm()
    servo = _quick_servo(pwm)
    asyncio.run(servo.actuate())
    widths = [v for k, v in pwm.calls if k == "ns"]
    assert ("freq", 50) in pwm.calls
    assert widths == [0, 1300000, 1600000, 1900000, 2000000, 1700000, 1400000, 1100000, 1000000, 0]


def test_servo_releases_even_when_cancelled():
    pwm = FakePwm()
    servo = Servo(pwm, step_us=10, step_ms=5)

    async def cancel_midway():
        task = asyncio.create_task(servo.actuate())
        await asyncio.sleep(0.02)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(cancel_midway())
    assert pwm.calls[-1] == ("ns", 0)


class CountingServo:
    def __init__(self):
        self.actuations = 0

    async def actuate(self):
        self.actuations += 1


class ScriptedSensor:
    def __init__(self, results):
        self.results = list(results)

    async def wait_drop(self, timeout_ms):
        await asyncio.sleep(0)
        return self.results.pop(0) if self.results else False


def test_delivery_without_sensor_counts_every_actuation():
    servo = CountingServo()
    assert asyncio.run(deliver(servo, None, 2)) == 2 and servo.actuations == 2


def test_delivery_retries_a_missed_pill_then_succeeds():
    servo = CountingServo()
    assert asyncio.run(deliver(servo, ScriptedSensor([False, True]), 1, retries=2)) == 1
    assert servo.actuations == 2


def test_delivery_gives_up_after_bounded_retries():
    servo = CountingServo()
    delivered = asyncio.run(deliver(servo, ScriptedSensor([True]), 3, retries=2))
    assert delivered == 1 and servo.actuations == 1 + 3  # one good pill, then 3 tries


def test_drop_sensor_sees_a_broken_beam_and_times_out():
    assert asyncio.run(DropSensor(FakePin([1, 1, 0])).wait_drop(500)) is True
    assert asyncio.run(DropSensor(FakePin([1])).wait_drop(10)) is False
    assert asyncio.run(DropSensor(FakePin([1]), active_low=False).wait_drop(0)) is True


def test_buzzer_levels_and_silence_afterwards():
    pwm = FakePwm()
    buzzer = Buzzer(pwm)
    asyncio.run(buzzer.remind(1))
    assert pwm.calls == [("u16", 0)]  # level 1 is LEDs only
    asyncio.run(buzzer.remind(3))
    assert ("freq", 2700) in pwm.calls and ("u16", 32768) in pwm.calls
    assert pwm.calls[-1] == ("u16", 0)


def test_status_patterns_are_distinct():
    ind = engine.Indication()
    seen = []
    for status in range(len(engine.STATUS_NAMES)):
        ind.status = status
        seen.append(patterns.status_pattern(ind))
    assert len(set(seen)) == len(seen)
    ind.status = engine.STATUS_DUE
    ind.level = 3
    assert patterns.status_pattern(ind) == patterns.DUE_URGENT


def test_compartment_pattern_shows_due_and_jam():
    ind = engine.Indication()
    ind.due_mask = 0b001
    ind.level = 1
    ind.jam_mask = 0b100
    assert patterns.compartment_pattern(ind, 0) == patterns.STEADY_ON
    assert patterns.compartment_pattern(ind, 1) == patterns.OFF
    assert patterns.compartment_pattern(ind, 2) == patterns.ERROR


def test_compartment_pattern_shows_which_hopper_is_low_unless_due_or_jammed():
    ind = engine.Indication()
    ind.low_mask = 0b111
    ind.due_mask = 0b001
    ind.level = 1
    ind.jam_mask = 0b100
    assert patterns.compartment_pattern(ind, 0) == patterns.STEADY_ON
    assert patterns.compartment_pattern(ind, 1) == patterns.LOW_STOCK
    assert patterns.compartment_pattern(ind, 2) == patterns.ERROR


def test_led_follows_pattern_changes():
    pin = FakePin()
    led = Led(pin)

    async def scenario():
        task = asyncio.create_task(led.run())
        led.show(patterns.STEADY_ON)
        await asyncio.sleep(0.01)
        on = pin.written[-1]
        led.show((20, 20))
        # Until it has blinked twice under the new pattern (three times on in all), however
        # slowly a loaded machine runs the loop: 2 s at most.
        for _ in range(200):
            if pin.written.count(1) >= 3:
                break
            await asyncio.sleep(0.01)
        blinks = pin.written.count(1)
        led.show(patterns.OFF)
        await asyncio.sleep(0.01)
        task.cancel()
        return on, blinks

    on, blinks = asyncio.run(scenario())
    assert on == 1 and blinks >= 3 and pin.written[-1] == 0


def test_ds3231_round_trip_and_lost_power():
    i2c = FakeI2C()
    rtc = DS3231(i2c)
    i2c.regs[0x0F] = 0x80  # fresh chip: oscillator stopped
    assert rtc.read_time() is None
    for t in (946684800, 1796038200, 1825000000 + 86399, 4102444800 + 59):
        rtc.set_time(t)
        assert rtc.read_time() == t
    assert not rtc.lost_power()


def test_ds3231_reads_12_hour_mode():
    i2c = FakeI2C()
    rtc = DS3231(i2c)
    rtc.set_time(1796038200)  # 2026-11-30 11:30 UTC
    hour = 1796038200 % 86400 // 3600
    i2c.regs[2] = 0x40 | 0x20 * (hour >= 12) | (((hour % 12) // 10) << 4 | (hour % 12) % 10)
    assert rtc.read_time() == 1796038200


class FakeRtc:
    """machine.RTC's datetime() setter, remembering what it was given."""

    def __init__(self):
        self.set_to = None

    def datetime(self, value):
        self.set_to = value


def test_rtc_clock_takes_a_valid_ds3231_time_at_boot_and_writes_both_on_set():
    i2c = FakeI2C()
    backup = DS3231(i2c)
    backup.set_time(1796038200)  # 2026-11-30 11:30:00 UTC, a Monday
    rtc = FakeRtc()
    clock = RtcClock(rtc, backup, now_s=lambda: 0)
    assert rtc.set_to == (2026, 11, 30, 0, 11, 30, 0, 0)
    clock.set(1796124645)  # the host syncs: 2026-12-01 11:30:45
    assert rtc.set_to == (2026, 12, 1, 1, 11, 30, 45, 0)
    assert backup.read_time() == 1796124645


def test_rtc_clock_is_unknown_when_the_ds3231_lost_power_and_the_rtc_was_never_set():
    i2c = FakeI2C()
    i2c.regs[0x0F] = 0x80  # oscillator stopped: battery flat
    rtc = FakeRtc()
    clock = RtcClock(rtc, DS3231(i2c), now_s=lambda: 1609459200)  # the RP2's 2021 reset value
    assert rtc.set_to is None
    assert clock.now() is None and not clock.is_set()
    assert RtcClock(FakeRtc(), None, now_s=lambda: 1796038200).now() == 1796038200


class FakeEdge:
    """ThreadSafeFlag's contract: wait() returns after an edge (here: once, at once)."""

    def __init__(self, edges=1):
        self.edges = edges
        self._never = asyncio.Event()

    async def wait(self):
        if self.edges:
            self.edges -= 1
            return
        await self._never.wait()


# Pin samples, in the order the button reads them: 0 = pressed. The button polls every
# 10 ms or more while held, so N samples of a hold last at least 10*N ms however loaded the
# machine is, and one released sample between pressed ones is a bounce whatever its length.
_PRESS_START = [0, 0]  # the edge, then the check after the press debounce


def _press(samples, wait_ms=5000, long_ms=300):
    button = Button(FakePin(samples), FakeEdge(), debounce_ms=20, long_ms=long_ms)
    return asyncio.run(button.press(wait_ms))


def test_button_short_press():
    assert _press(_PRESS_START + [0, 0, 1]) == SHORT


def test_button_long_press_chattering_all_along_stays_one_long_press():
    # 40 polls held (>= 400 ms), with a released sample every fourth poll: contact chatter.
    chatter = [1 if i % 4 == 3 else 0 for i in range(40)]
    assert _press(_PRESS_START + chatter + [1]) == LONG


def test_button_release_counts_only_once_stable_for_the_debounce_time():
    # Released for single samples (each under the 20 ms debounce) then held on: not released.
    button = Button(FakePin(_PRESS_START + [1, 0, 1, 0] + [0] * 40 + [1]), FakeEdge(), long_ms=300)
    assert asyncio.run(button.press(5000)) == LONG


def test_button_bounce_at_the_press_is_no_press():
    button = Button(FakePin([0, 1]), FakeEdge(), debounce_ms=20)
    assert asyncio.run(button.press(200)) is None  # the pin settled released: no press


def test_button_wait_ends_without_a_press_and_a_hold_carries_over():
    idle = Button(FakePin([1]), FakeEdge(edges=0))
    assert asyncio.run(idle.press(50)) is None  # nobody pressed: back to check in

    button = Button(FakePin(_PRESS_START + [0] * 60 + [1]), FakeEdge(), long_ms=300)

    async def twice():
        first = await button.press(100)  # the slice ends during the hold
        return first, await button.press(5000)

    assert asyncio.run(twice()) == (None, LONG)

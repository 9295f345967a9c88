"""Hardware drivers, and nothing else. Each receives its hardware objects (never constructs
them; only the board files import `machine`) and documents the minimal contract it needs,
which the tests' fakes implement exactly:

- button: `pin.value()` (0 while pressed, pull-up) and `edge.wait()` (returns after the
  pin changed; on a Pico a ThreadSafeFlag set from `pin.irq()`).
- buzzer: `pwm.freq(hz)`, `pwm.duty_u16(v)`.
- delivery: the servo's `pwm.freq(hz)`, `pwm.duty_ns(ns)`; the drop sensor's `pin.value()`.
- ds3231: `i2c.readfrom_mem(addr, reg, n)`, `i2c.writeto_mem(addr, reg, buf)`.
- leds: `pin.value(v)`.

A driver imports only the core (dispenser.core: e.g. the LED patterns, local time), the
platform (dispenser.compat) and the asyncio timing helper (dispenser.timing); never the
shell, `machine`, `os` or `time` (tests/test_layers.py).
"""

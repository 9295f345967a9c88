"""Dispenser firmware, in layers (tests/test_layers.py guards the import rules):

- dispenser.core: the pure core (its own __init__ states the contract). Imports nothing
  below.
- dispenser.drivers: the hardware drivers (its __init__ lists each one's contract).
- the shell, the modules here (app, controller, commands, setupcmds, servicecmds, confirm,
  arbiter, supervisor, rescue, boot, link, clock, rtcclock, logstore, schedstore,
  setupfiles, checkedfile, timing) and dispenser.net (Pico W only): tasks, files, the
  serial link and the wiring. It may import the core, the drivers and the platform; no
  import cycles, lazy imports included. Other parts extend the app only through its hooks
  (App.add_command, add_status, subscribe); no module sets another's attributes.
- the platform: this package's constants, dispenser.compat (const, ticks, print_exception,
  Transient: the one way to keep code off the heap) and its CPython stand-ins
  (cpython_shim). Every layer may import it.

The board object (boards/*.py: `build()` returns it; main.py passes it to app.run) must
provide: `name`, `device_id` (str), `reset_cause` (str), `clock` (a dispenser.clock.Clock),
`scratch` (`read(i)`, `write(i, value)`: words that survive a reset), `serial_in` and
`serial_out` (the USB serial streams), `status_led` and `compartment_leds` (3 pins),
`buzzer_pwm`, `servo_pwms` (3 PWMs), `servo_calibration` (3 (rest, drop) pulse widths in
µs), `drop_pin` (or None: no sensor), `button_pin` and `button_edge`, `log_budget` (bytes
of flash for the log), `maintenance_s`, `start_watchdog(ms)` (returns one with `feed()`),
`feed_for(watchdog, seconds)`, `reset()`, `background_tasks()` (coroutines to run),
`fault_point(name)` (the sim's fault injection; a no-op on a Pico); optionally `wlan`
(Pico W: the caregiver alerts start) and `ds3231` (the self-test reads it).
"""

VERSION = "0.1.0"
PROTOCOL_VERSION = 1
# Shared by the supervisor and the rescue path (which it loads only on a failure), here so
# that neither imports the other.
WATCHDOG_MS = 8000  # the RP2040's longest watchdog period is 8.3 s
CRASH_LIMIT = 3  # crashes in a row (docs/supervision.md) that halt the board

"""Boots the real App in the MicroPython unix port and says which firmware modules stay
resident. Usage: micropython tests/mp_resident.py FLASH_DIR (MICROPYPATH reaching the
firmware and tests/core; FLASH_DIR holds schedule.json). Prints one JSON line. Run by
tests/test_resident_modules.py.

The board is the least App needs (see dispenser/__init__.py for the contract); the clock
is fixed, nothing moves. After the boot it answers the requests that load the rare-command
code (schedule.get: setupcmds and the schedule store; log.info; status), as a running app
would, and a dispense.test that waits for a press (its module must stay loaded while it
waits), then collects and reports.
"""

import gc

from supervisetools import FakePwm, FakeScratch  # test fakes: not counted in the figure

gc.collect()
before = gc.mem_alloc()  # before any firmware module: the figure includes their bytecode

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

os.chdir(sys.argv[1])


from dispenser.app import App  # noqa: E402
from dispenser.clock import Clock  # noqa: E402

T = 1796000000  # 2026-11-29, a valid time


class Pin:
    def value(self, v=None):
        return 1  # the button is not pressed (active low)


class FixedClock(Clock):
    def _read(self):
        return T

    def _write(self, epoch_s):
        pass

    def counter(self):
        return T


class Board:
    name = "test"
    device_id = "e6614103e7"
    reset_cause = "power"
    log_budget = 65536
    maintenance_s = 300
    drop_pin = None
    button_edge = None

    def __init__(self):
        self.scratch = FakeScratch()
        self.clock = FixedClock()
        self.serial_in = sys.stdin.buffer
        self.serial_out = sys.stdout
        self.status_led = Pin()
        self.compartment_leds = [Pin(), Pin(), Pin()]
        self.buzzer_pwm = FakePwm()
        self.servo_pwms = [FakePwm(), FakePwm(), FakePwm()]
        self.servo_calibration = [(1000, 2000)] * 3
        self.button_pin = Pin()


async def answer(verb, args):
    reply = table[verb](args)
    return await reply if hasattr(reply, "send") else reply


async def requests():
    await answer("schedule.get", {"off": 0})
    await answer("log.info", {})
    # A command that waits (for a press at the device) runs its module's code all along:
    # that module stays resident while it waits, and goes when it ends.
    waiting = asyncio.create_task(answer("dispense.test", {"hopper": 0}))
    await asyncio.sleep_ms(100)
    during = "dispenser.setupcmds" in sys.modules
    waiting.cancel()
    try:
        await waiting
    except asyncio.CancelledError:
        pass
    return during, await answer("status", {})


app = App(Board())
app.controller.boot()
table = app._commands.table
resident_while_waiting, status = asyncio.run(requests())
gc.collect()
resident = sorted(name for name in sys.modules if name.startswith("dispenser"))
print(
    json.dumps(
        {
            "resident": resident,
            "engine": app.controller.engine is not None,
            "state": status.get("state"),
            "resident_while_waiting": resident_while_waiting,
            "heap_bytes": gc.mem_alloc() - before,
        }
    )
)

"""The maintenance REPL and safe mode in-process (issue 17, item 1): main.py turns the
keyboard interrupt off first; the `maintenance` command leaves the app only after a 2 s hold
at the device, and logs who asked; the button held at power-on starts safe mode."""

from __future__ import annotations

import ast
import asyncio
import runpy
import sys
import types

import pytest
from conftest import ROOT
from inprocess import run, until
from simhelpers import compiled, utc

from dispenser import app as app_module
from dispenser.core import logrec
from dispenser.core.protocol import MAINTENANCE_HOLD_MS, MAINTENANCE_WINDOW_MS

BONE = compiled("bone-health")


@pytest.fixture
def kbd_intr(monkeypatch) -> list[int]:
    """MicroPython's `micropython.kbd_intr`, recording each call."""
    calls: list[int] = []
    monkeypatch.setitem(sys.modules, "micropython", types.SimpleNamespace(kbd_intr=calls.append))
    return calls


def _maintenance_steps(world) -> list[tuple[int, str]]:
    return [(r["step"], r["who"]) for r in world.records() if r["kind"] == "maintenance"]


def test_maintenance_opens_after_a_hold_and_logs_who_asked(world):
    world.boot_with(BONE, utc(9, 0))

    async def body():
        task = await world.start()

        async def person():
            await until(lambda: world.app.arbiter.busy())
            await world.board.press(MAINTENANCE_HOLD_MS + 300)

        asyncio.ensure_future(person())
        verb, reply = await world.request("maintenance", {"by": "ada@kitchen"})
        assert (verb, reply) == ("ok", {"seconds": world.board.maintenance_s})
        await asyncio.wait_for(task, 1)  # App.main() returns: run() opens the REPL

    run(world.loop, body())
    assert _maintenance_steps(world) == [
        (logrec.MAINT_ASKED, "ada@kitchen"),
        (logrec.MAINT_OPENED, "ada@kitchen"),
    ]


def test_maintenance_without_a_hold_is_refused_and_the_app_runs_on(world):
    world.boot_with(BONE, utc(11, 35))

    async def body():
        task = await world.start()
        started = world.loop.time()
        await world.board.press(300)  # before the request: no hold for it
        verb, reply = await world.request("maintenance", {"by": "bot"})
        waited = world.loop.time() - started
        assert (verb, reply["code"]) == ("err", "refused")
        assert MAINTENANCE_WINDOW_MS / 1000 <= waited <= MAINTENANCE_WINDOW_MS / 1000 + 1
        assert not task.done()
        await world.press()  # the app dispenses on

    run(world.loop, body())
    assert [s for s, _ in _maintenance_steps(world)] == [logrec.MAINT_ASKED, logrec.MAINT_REFUSED]
    assert world.board.actuations() == [1, 1, 0]


def test_a_short_press_does_not_open_maintenance(world):
    world.boot_with(BONE, utc(9, 0))

    async def body():
        await world.start()

        async def person():
            await until(lambda: world.app.arbiter.busy())
            await world.board.press(500)  # shorter than the 2 s hold

        asyncio.ensure_future(person())
        verb, _ = await world.request("maintenance", {})
        assert verb == "err"

    run(world.loop, body())


def test_main_turns_ctrl_c_off_and_a_confirmed_maintenance_opens_the_window(
    world, monkeypatch, kbd_intr
):
    world.boot_with(BONE, utc(9, 0))
    board = world.board
    monkeypatch.setattr(app_module, "run", lambda b: True)  # maintenance was confirmed

    def build():
        kbd_intr.append("board built")
        return board

    monkeypatch.setitem(sys.modules, "board", types.SimpleNamespace(build=build))
    runpy.run_path(str(ROOT / "firmware" / "main.py"), run_name="__main__")
    assert kbd_intr == [-1, "board built", 3]  # off before anything of the board runs
    assert board.fed_for == board.maintenance_s


def test_main_py_turns_ctrl_c_off_before_anything_else_it_runs():
    # The threat model's first line: nothing may run in the window before kbd_intr(-1).
    # Before it, main.py may only name its board variable, open the try and import
    # micropython (a built-in module).
    body = ast.parse((ROOT / "firmware" / "main.py").read_text()).body
    assert isinstance(body[0], ast.Assign) and isinstance(body[1], ast.Try), ast.dump(body[0])
    first, second = body[1].body[:2]
    assert ast.unparse(first) == "import micropython"
    assert ast.unparse(second) == "micropython.kbd_intr(-1)"


def test_the_button_held_at_power_on_starts_safe_mode_not_the_app(world, monkeypatch, kbd_intr):
    world.boot_with(BONE, utc(11, 35))
    board = world.board
    board.button_pin.level = 0  # held while main.py runs
    ran = []
    monkeypatch.setattr(app_module, "run", ran.append)
    monkeypatch.setitem(sys.modules, "board", types.SimpleNamespace(build=lambda: board))
    runpy.run_path(str(ROOT / "firmware" / "main.py"), run_name="__main__")
    assert ran == []  # no app
    assert kbd_intr == [-1, 3]  # the REPL with its Ctrl-C
    assert board.watchdog is None and board.fed_for is None  # no watchdog: it stays
    assert board.servos_released() and board.actuations() == [0, 0, 0]
    # ... and the log says why nothing was dispensed while it sat there
    last = world.records()[-1]
    assert (last["kind"], last["step"], last["who"]) == (
        "maintenance",
        logrec.MAINT_SAFE_MODE,
        "the button at power-on",
    )
    assert last["t"] == int(utc(11, 35))
